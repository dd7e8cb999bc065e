# frozen_string_literal: true

require 'open3'
require 'rbconfig'
require 'tmpdir'
require 'yaml'

# tests/lint/monit525.rb checks monit files against monit 5.2.5's grammar (the stemcells' monit).
# Every case below was checked against 5.2.5's lexer and grammar, not against a newer monit.
RSpec.describe 'monit 5.2.5 checker (tests/lint/monit525.rb)' do
  def checker
    File.join(RELEASE_DIR, 'tests/lint/monit525.rb')
  end

  def run_checker(*args)
    _stdout, stderr, status = Open3.capture3(RbConfig.ruby, checker, *args)
    [status.exitstatus, stderr]
  end

  # Checks `text` as the file `monit`; returns [exit status, diagnostics].
  def check(text)
    Dir.mktmpdir do |dir|
      path = File.join(dir, 'monit')
      File.write(path, text)
      status, stderr = run_checker(path)
      [status, stderr.gsub(path, 'monit')]
    end
  end

  bosh_job = <<~MONIT
    # a typical BOSH job
    check process postgres
      with pidfile /var/vcap/sys/run/pg-master/postgres.pid
      start program "/var/vcap/jobs/pg-master/bin/ctl start" with timeout 60 seconds
      stop program = "/var/vcap/jobs/pg-master/bin/ctl stop" as uid vcap and gid vcap with timeout 60 seconds
      depends on isolation
      group vcap
      if failed port 5432 then restart
      if 5 restarts within 5 cycles then timeout
  MONIT

  accepted = {
    'a typical BOSH job file' => bosh_job,
    'mode manual and matching "REGEX"' => <<~MONIT,
      check process pgguard matching "pgguard: .*"
        start program = "/var/vcap/jobs/pgguard/bin/ctl start"
        stop program = "/var/vcap/jobs/pgguard/bin/ctl stop"
        mode manual
        group vcap
    MONIT
    'resource tests, including a percentage totalmem (5.2.5 has it)' => <<~MONIT,
      check process postgres with pidfile /var/vcap/sys/run/postgres.pid
        if totalmem > 80% then restart
        if totalmem > 500 MB for 5 cycles then restart
        if cpu > 90% for 3 cycles then alert
        if children > 255 then alert
        if loadavg(5min) > 4 then alert
    MONIT
    'network tests, dependencies, alerts and every N cycles' => <<~MONIT,
      check process postgres with pidfile /var/vcap/sys/run/postgres.pid
        if failed unixsocket /var/vcap/sys/run/pg.sock with timeout 5 seconds then restart
          else if succeeded then alert
        if failed host 127.0.0.1 port 5432 protocol pgsql with timeout 10 seconds for 3 cycles then restart
        if failed port 80 then exec "/var/vcap/jobs/x/bin/fix now" as uid vcap
        alert ops@example.com { nonexist timeout } with mail-format { subject: down } with reminder on 10 cycles
        depends on isolation, pgguard,
          metrics
        every 2 cycles
        if changed pid then alert
    MONIT
    'the other service types' => <<~MONIT,
      check system vm
        if loadavg (1min) > 4 then alert
        if memory > 75% then alert
        if cpu(user) > 80% for 2 cycles then alert
      check host peer with address 10.0.0.5
        if failed port 5432 protocol pgsql then alert
        if failed icmp type echo count 3 then alert
      check file log with path /var/vcap/sys/log/postgres.log
        if size > 100 MB then alert
        if failed permission 0640 then alert
        if match "PANIC" then alert
      check directory store with path /var/vcap/store
        if changed timestamp then alert
      check fifo pipe with path /var/vcap/sys/run/pipe
        if not exist then alert
      check filesystem disk with path /var/vcap/store
        if space usage > 90% then alert
        if inode usage > 90% for 5 cycles then alert
    MONIT
    'a file of comments only' => "# nothing to watch here\n\n",
    'CRLF line ends' => "check process x with pidfile /var/vcap/sys/run/x.pid\r\n  group vcap\r\n"
  }

  accepted.each do |name, text|
    it "accepts #{name}" do
      expect(check(text)).to eq([0, ''])
    end
  end

  # [file, line, what the diagnostic must say]
  rejected = {
    "'check program' with 'if status != 0' (both are 5.3)" => [<<~MONIT, 1, /check program' does not exist in 5\.2\.5/],
      check program isolation
        with path "/var/vcap/jobs/isolation/bin/isolation_ctl verify" with timeout 20 seconds
        if status != 0 then exec "/var/vcap/jobs/isolation/bin/isolation_ctl apply"
        group vcap
    MONIT
    "'if status != 0' on its own" => [<<~MONIT, 2, /'if status \.\.\.'.* does not exist in 5\.2\.5/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        if status != 0 then alert
    MONIT
    "'restart program'" => [<<~MONIT, 3, /'restart program' does not exist/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        start program = "/var/vcap/jobs/x/bin/ctl start"
        restart program = "/var/vcap/jobs/x/bin/ctl restart"
    MONIT
    "cron-style every \"...\"" => [<<~MONIT, 2, /cron-style/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        every "* * * * *"
    MONIT
    "'if uptime'" => [<<~MONIT, 2, /'uptime' test does not exist/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        if uptime < 3 minutes then alert
    MONIT
    "'if threads'" => [<<~MONIT, 2, /'threads' test does not exist/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        if threads > 10 then alert
    MONIT
    'an operator glued to its number' => [<<~MONIT, 2, /syntax error at '>80%?'/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        if cpu >80% then alert
    MONIT
    'a unit glued to its number' => [<<~MONIT, 2, /syntax error at '500MB'/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        if totalmem > 500MB then alert
    MONIT
    "plain 'cpu' in check system" => [<<~MONIT, 2, /syntax error at 'cpu'/],
      check system vm
        if cpu > 80% then alert
    MONIT
    "'as uid' after 'with timeout'" => [<<~MONIT, 2, /must come before 'with timeout/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        start program = "/var/vcap/jobs/x/bin/ctl start" with timeout 60 seconds as uid vcap
    MONIT
    'a single-quoted start program' => [<<~MONIT, 2, /double-quoted string/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        start program = '/var/vcap/jobs/x/bin/ctl start'
    MONIT
    'an unterminated quote (group)' => [<<~MONIT, 2, /unbalanced quotes/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        group "vcap
    MONIT
    'an unterminated quote (pidfile)' => [<<~MONIT, 1, /unbalanced quotes/],
      check process x with pidfile "/var/vcap/sys/run/x.pid
        group vcap
    MONIT
    'an unknown keyword in a test' => [<<~MONIT, 2, /syntax error at 'frobnicated'.*not a monit 5\.2\.5 keyword/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        if frobnicated then restart
    MONIT
    'an unknown statement' => [<<~MONIT, 1, /syntax error at 'frobnicate'/],
      frobnicate on
    MONIT
    'an option outside any check' => [<<~MONIT, 1, /syntax error at 'group/],
      group vcap
    MONIT
    'a last-line comment without a newline (lexes as a word)' =>
      ["check process x with pidfile /var/vcap/sys/run/x.pid\n# done", 2, /syntax error at '#'/],
    'every 1 cycles' => [<<~MONIT, 2, /EVERY statement must have a value greater than 1/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        every 1 cycles
    MONIT
    'more restarts than cycles' => [<<~MONIT, 2, /restarts must be less than poll cycles/],
      check process x with pidfile /var/vcap/sys/run/x.pid
        if 6 restarts within 5 cycles then timeout
    MONIT
    'a duplicate service name' => [<<~MONIT, 2, /service name conflict/],
      check process x with pidfile /var/vcap/sys/run/x.pid
      check process X with pidfile /var/vcap/sys/run/y.pid
    MONIT
    'a regex regcomp refuses' => [<<~MONIT, 1, /regex parsing error/],
      check process x matching "(postgres|pgguard"
    MONIT
    'a check host without a port or icmp test' => [<<~MONIT, 1, /needs a port or icmp test/],
      check host peer with address 10.0.0.5
        group vcap
    MONIT
  }

  rejected.each do |name, (text, line, message)|
    it "rejects #{name}" do
      status, diagnostics = check(text)
      expect(status).to eq(1)
      expect(diagnostics).to match(/\Amonit:#{line}: monit 5\.2\.5 would reject: /)
      expect(diagnostics).to match(message)
    end
  end

  it 'refuses, as unsupported, statements it does not implement' do
    ["set daemon 30\n", "include /var/vcap/monit/*.monitrc\n",
     "check process x with pidfile /var/vcap/sys/run/x.pid\n  if failed url http://localhost/ then alert\n"].each do |text|
      status, diagnostics = check(text)
      expect(status).to eq(1)
      expect(diagnostics).to match(/\Amonit:\d+: not supported by this checker: /)
    end
  end

  it 'warns, without failing, when an unclosed program quote swallows the following lines (5.2.5 accepts that)' do
    status, diagnostics = check(<<~MONIT)
      check process x with pidfile /var/vcap/sys/run/x.pid
        start program = "/var/vcap/jobs/x/bin/ctl start
        stop program = "/var/vcap/jobs/x/bin/ctl stop"
        group vcap
    MONIT
    expect(status).to eq(0)
    expect(diagnostics).to match(/\Amonit:2: warning: the quoted program string opened here only closes on line 3/)
  end

  it 'checks several files and reports only the bad ones' do
    Dir.mktmpdir do |dir|
      good = File.join(dir, 'good')
      bad = File.join(dir, 'bad')
      File.write(good, bosh_job)
      File.write(bad, "check process x with pidfile /var/vcap/sys/run/x.pid\n  if uptime < 3 minutes then alert\n")
      status, diagnostics = run_checker(good, bad)
      expect(status).to eq(1)
      expect(diagnostics.lines).to all(start_with("#{bad}:2: "))
    end
  end

  it 'exits 2 on usage errors' do
    expect(run_checker.first).to eq(2)
    expect(run_checker('--frobnicate', checker).first).to eq(2)
    expect(run_checker(File.join(RELEASE_DIR, 'no/such/monit')).first).to eq(2)
  end

  describe "the release's job monit files" do
    monit_files = Dir.glob(File.join(RELEASE_DIR, 'jobs/*/monit'))
    templated, plain = monit_files.partition { |path| File.read(path).include?('<%') }
    relative = ->(path) { path.delete_prefix("#{RELEASE_DIR}/") }

    it 'exist' do
      expect(monit_files).not_to be_empty
    end

    plain.each do |path|
      it "#{relative.call(path)} is accepted by monit 5.2.5, without warnings" do
        expect(run_checker(path)).to eq([0, ''])
      end
    end

    # A templated monit file is rendered as the agent renders it (the job spec's defaults, plus
    # the property sets that switch its ERB branches), and each rendering is checked.
    renderings = {
      'jobs/pgpool/monit' => { 'without a VIP' => {}, 'with a VIP' => { 'pgpool' => { 'vip' => '198.18.1.20' } } }
    }

    it 'are rendered here with every property set that changes them' do
      expect(templated.map(&relative)).to match_array(renderings.keys)
    end

    templated.each do |path|
      job_dir = File.dirname(path)
      renderings.fetch(relative.call(path), {}).each do |label, properties|
        it "#{relative.call(path)} #{label} is accepted by monit 5.2.5, without warnings" do
          spec_hash = YAML.load_file(File.join(job_dir, 'spec'))
          text = Bosh::Template::Test::Template.new(spec_hash, path).render(properties)
          expect(check(text)).to eq([0, ''])
        end
      end
    end
  end
end
