# gnuplot -e "data='DATA.tsv'; output='OUT.png'" bench/ha/outage.gp: each run of bench/ha/run.sh
# by scenario and setting: the first acknowledged write after the loss (filled marks) and, for
# the VIP holder, the VIP's first answer (open marks), with issue 15's targets (failover 15 s,
# VIP move 10 s).
set terminal pngcairo size 900,640
set output output
set datafile separator "\t"
set datafile missing "-"
set key below vertical maxrows 4
set title "A lost VM: seconds until the service answers again, per run"
set xlabel "run"
set ylabel "seconds from the loss"
set yrange [0:*]
set xtics 1
set autoscale xfix
set offsets 0.3, 0.3, 0, 0
set grid ytics
pick(setting, scenario, col) = (strcol(1) eq setting && strcol(2) eq scenario) ? column(col) : 1/0
plot data skip 1 using 3:(pick("shipped", "primary-lost", 4)) with points pt 7 title "primary lost, first write, shipped", \
     data skip 1 using 3:(pick("tuned", "primary-lost", 4)) with points pt 5 title "primary lost, first write, tuned", \
     data skip 1 using 3:(pick("shipped", "vip-holder-lost", 4)) with points pt 9 title "VIP holder lost, first write, shipped", \
     data skip 1 using 3:(pick("tuned", "vip-holder-lost", 4)) with points pt 11 title "VIP holder lost, first write, tuned", \
     data skip 1 using 3:(pick("shipped", "vip-holder-lost", 5)) with points pt 8 title "VIP holder lost, VIP answers, shipped", \
     data skip 1 using 3:(pick("tuned", "vip-holder-lost", 5)) with points pt 10 title "VIP holder lost, VIP answers, tuned", \
     15 with lines dt 2 lc rgb "gray40" title "failover target 15 s", \
     10 with lines dt 3 lw 2 lc rgb "#b22222" title "VIP move target 10 s"
