# gnuplot -e "data='DATA.tsv'; output='OUT.png'" bench/ha/outage.gp: each run's outage (bench/ha/run.sh)
# by scenario and setting, with the targets of issue 15 (failover 15 s, VIP move 10 s).
set terminal pngcairo size 900,520
set output output
set datafile separator "\t"
set key outside right top
set title "Writes through the VIP: outage after a lost VM, per run"
set xlabel "run"
set ylabel "seconds from the loss to the first acknowledged write"
set yrange [0:*]
set xtics 1
set grid ytics
pick(setting, scenario) = (strcol(1) eq setting && strcol(2) eq scenario) ? column(4) : 1/0
plot data skip 1 using 3:(pick("shipped", "primary-lost")) with points pt 7 title "primary lost, shipped", \
     data skip 1 using 3:(pick("tuned", "primary-lost")) with points pt 5 title "primary lost, tuned", \
     data skip 1 using 3:(pick("shipped", "vip-holder-lost")) with points pt 9 title "VIP holder lost, shipped", \
     data skip 1 using 3:(pick("tuned", "vip-holder-lost")) with points pt 11 title "VIP holder lost, tuned", \
     15 with lines dt 2 lc rgb "gray40" title "failover target 15 s", \
     10 with lines dt 3 lc rgb "gray60" title "VIP move target 10 s"
