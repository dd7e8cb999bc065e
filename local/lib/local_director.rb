# frozen_string_literal: true

require 'digest'
require 'fileutils'
require 'json'
require 'yaml'

require_relative 'bosh_template'
require_relative 'credhub_stand_in'
require_relative 'deployment'
require_relative 'local_vms'
require_relative 'manifest_ops'

# A stand-in for a BOSH director and its agents on this one machine: it deploys the release's
# own manifest (manifests/secure-postgres.yml with local/operations/local.yml), one deployment
# per service instance, onto network namespaces (local/lib/local_vms.rb). It renders the jobs
# with the same renderer as the template tests and runs what a director's VM runs: each job's
# pre-start, a real monit with the jobs' monit files, post-start; drain and monit stop on stop.
# It re-implements none of the helpers or jobs.
class LocalDirector
  LETTERS = %w[a b c d].freeze
  MONITRC = File.read(File.join(__dir__, 'monitrc'))

  Instance = Struct.new(:letter, :index, :name, :ips, :app_ip, :clients)

  def initialize(root:, state_dir:, prefix:, programs:, instances: 2, ops_files: [], out: $stdout)
    @root = root
    @ops_files = ops_files
    @programs = programs
    @out = out
    @instances = Array.new(instances) { |index| instance(index) }
    @vms = LocalVms.new(prefix: prefix, state_dir: state_dir)
    @cloud_config = ManifestOps.load_yaml(File.join(root, 'local', 'cloud-config.yml'))
    @release = Bosh::Template::Test::ReleaseDir.new(root)
  end

  attr_reader :vms, :instances

  # --- up -----------------------------------------------------------------------------------

  def up
    started = now
    plans = stage('Rendering the manifests (both instances; nothing changes on a bad one)') do
      @instances.to_h { |instance| [instance, plan(instance)] }
    end
    stage('Networks: router, control, service (z1-z3) and application bridges') { vms.network_up(@cloud_config) }
    stage('Application VMs') { @instances.each { |instance| app_vm(instance) } }
    # The instances are independent deployments: deployed side by side, each serially.
    threads = plans.map do |instance, (deployment, rendered)|
      Thread.new { deploy(instance, deployment, rendered) }.tap { |thread| thread.report_on_exception = false }
    end
    errors = threads.map do |thread|
      thread.join
      nil
    rescue StandardError => e
      e
    end.compact
    raise errors.first unless errors.empty?

    say format('Deployed %<n>d instances in %<s>.1f s', n: @instances.size, s: now - started)
    status
  end

  # The manifest of one instance, checked as the director checks it, with its variables and
  # every job rendered: { "group/index" => { job => { path => text } } }.
  def plan(instance)
    manifest = ManifestOps.load_yaml(File.join(@root, 'manifests', 'secure-postgres.yml'))
    [File.join(@root, 'local', 'operations', 'local.yml'), *@ops_files].each do |ops_file|
      manifest = ManifestOps.apply(manifest, ManifestOps.load_yaml(ops_file))
    rescue StandardError => e
      raise "#{ops_file}: #{e.message}"
    end
    manifest = ManifestOps.interpolate(manifest, { 'local' => local_vars(instance) }, keep_unknown: true)
    deployment = Deployment.new(manifest, @cloud_config, release_dir: @root)
    problems = deployment.problems
    raise "#{instance.name}: the manifest is not deployable:\n  #{problems.join("\n  ")}" unless problems.empty?

    variables = variables(instance, manifest.fetch('variables', []))
    [deployment, deployment.render_all(@release, variables)]
  end

  def deploy(instance, deployment, rendered)
    deployment.groups.each do |group|
      deployment.instances(group).each do |vm_instance|
        vm = "#{instance.letter}-#{group['name']}-#{vm_instance.index}"
        jobs = rendered.fetch("#{group['name']}/#{vm_instance.index}")
        update_vm(vm, vm_instance.ip, jobs)
      end
    end
  end

  # One VM as the agent updates it: unchanged, it is left alone; otherwise drain and monit stop,
  # the new jobs, pre-start, monit start of every process, post-start.
  def update_vm(vm, address, jobs)
    started = now
    created = !vms.exists?(vm)
    vms.create(vm, address, @cloud_config) if created
    packages_changed = install_packages(vm)
    if !created && !packages_changed && jobs_unchanged?(vm, jobs) && monit_running?(vm)
      say "  #{vm} (#{address}): no changes"
      return
    end
    stop_jobs(vm) unless created
    write_jobs(vm, jobs)
    jobs.each_key { |job| lifecycle_script(vm, job, 'pre-start') }
    install_monit_files(vm, jobs.keys)
    monit_start(vm)
    jobs.each_key { |job| lifecycle_script(vm, job, 'post-start') }
    say format('  %<vm>s (%<ip>s): %<what>s in %<s>.1f s', vm: vm, ip: address,
                                                           what: created ? 'created' : 'updated', s: now - started)
  end

  # --- other commands -------------------------------------------------------------------------

  def status
    row = '%-16<vm>s %-13<ip>s %-9<iso>s %-6<vip>s %<processes>s'
    say "\n#{format(row, vm: 'VM', ip: 'address', iso: 'isolation', vip: 'VIP', processes: 'processes (monit state; uid, CapEff, Seccomp, NoNewPrivs)')}"
    vms.names.each do |vm|
      address = vms.address(vm)
      if vm.start_with?('app-')
        say format(row, vm: vm, ip: address, iso: '-', vip: '', processes: 'application client')
        next
      end
      processes = monit_running?(vm) ? monit_summary(vm).map { |name, state| "#{name}:#{state}#{sandbox_summary(vm, name)}" }.join('  ') : 'monit not running'
      say format(row, vm: vm, ip: address, iso: isolation_state(vm), vip: vip_holder?(vm) ? 'holds' : '', processes: processes)
    end
    @instances.each do |instance|
      say "\n#{instance.name}: replication #{replication_state(instance)}"
      say "  psql from its application VM app-#{instance.letter} (#{instance.app_ip}) through the VIP:"
      say "  scripts/deploy-local psql #{instance.letter} -c 'SELECT 1'   " \
          "(host=#{instance.ips['vip']} port=9999 user=app dbname=app sslmode=verify-full)"
    end
  end

  def exec(vm, command)
    output, status = vms.run(vm, *command)
    @out.print output
    status.exitstatus
  end

  # psql from the instance's application VM through its VIP, TLS verified, scram.
  def psql(letter, arguments)
    instance = @instances.find { |candidate| candidate.letter == letter } or raise "no instance '#{letter}'"
    values = YAML.safe_load_file(variables_path(instance))
    ca = values.fetch('pgpool_tls').fetch('value').fetch('ca')
    ca_path = File.join(vms.vcap("app-#{letter}"), 'ca.crt')
    File.write(ca_path, ca)
    conninfo = "host=#{instance.ips['vip']} port=9999 dbname=app user=app sslmode=verify-full " \
               'sslrootcert=/var/vcap/ca.crt connect_timeout=5'
    output, status = vms.run("app-#{letter}", 'env', "PGPASSWORD=#{values.fetch('pg_app_password').fetch('value')}",
                             '/usr/lib/postgresql/15/bin/psql', '-X', conninfo, *arguments)
    @out.print output
    status.exitstatus
  end

  def run_errand(name)
    failed = 0
    vms.names.reject { |vm| vm.start_with?('app-') }.each do |vm|
      script = File.join(vms.vcap(vm), 'jobs', name, 'bin', 'run')
      next unless File.exist?(script)

      output, status = vms.run(vm, "/var/vcap/jobs/#{name}/bin/run")
      say "== #{vm}: #{status.success? ? 'passed' : "FAILED (exit #{status.exitstatus})"}"
      @out.print output.lines.map { |line| "  #{line}" }.join
      failed += 1 unless status.success?
    end
    failed.zero? ? 0 : 1
  end

  # Reboot semantics: processes and the kernel's rules gone, /var/vcap/sys/run empty, no
  # pre-start: only monit's start brings the jobs back.
  def recreate(vm)
    started = now
    vms.reboot(vm)
    monit_start(vm)
    say format('%<vm>s rebooted; monit brought %<n>d processes back in %<s>.1f s', vm: vm, n: vcap_services(vm).size,
                                                                                   s: now - started)
  end

  def lose(vm)
    vms.power_off(vm)
    say "#{vm}: lost (link down, every process killed); recreate brings it back"
  end

  def freeze(vm)
    vms.freeze(vm)
    say "#{vm}: frozen (every process stopped); thaw resumes it"
  end

  def thaw(vm)
    vms.thaw(vm)
    say "#{vm}: thawed (every process resumed)"
  end

  def partition(vm, peers)
    addresses = peers.map { |peer| vms.address(peer) }
    vms.partition(vm, addresses)
    say "#{vm}: cut off from #{peers.join(', ')} (#{addresses.join(', ')}), both ways"
  end

  def heal(vm)
    vms.heal(vm)
    say "#{vm}: partition healed"
  end

  def stop(vm)
    stop_jobs(vm)
    say "#{vm}: stopped (drain, monit stop)"
  end

  def start(vm)
    monit_start(vm)
    say "#{vm}: started"
  end

  def logs(vm)
    Dir.glob(File.join(vms.vcap(vm), 'sys', 'log', '**', '*.log')).each do |path|
      say "== #{path.delete_prefix(vms.vcap(vm))}"
      @out.print File.readlines(path).last(20).join
    end
  end

  def delete
    started = now
    vms.delete_all
    say format('Deleted every VM, network and file of the local deployment in %<s>.1f s', s: now - started)
  end

  private

  def instance(index)
    letter = LETTERS.fetch(index) { raise "at most #{LETTERS.size} instances" }
    base = 8 + (16 * index)
    ips = { 'master' => "198.18.0.#{base}", 'standby' => "198.18.0.#{base + 1}",
            'pgpool' => (2..4).map { |offset| "198.18.0.#{base + offset}" }, 'vip' => "198.18.0.#{base + 7}" }
    Instance.new(letter, index, "secure-postgres-#{letter}", ips, "198.19.#{16 + index}.10", "198.19.#{16 + index}.0/24")
  end

  def local_vars(instance)
    { 'name' => instance.name, 'ips' => instance.ips, 'clients' => instance.clients, 'control' => '198.19.0.0/24' }
  end

  def app_vm(instance)
    name = "app-#{instance.letter}"
    vms.create(name, instance.app_ip, @cloud_config) unless vms.exists?(name)
  end

  # The config server's part: each variable generated once and kept across deploys while its
  # definition stays the same (a certificate whose options change is issued again, as
  # update_mode converge does).
  def variables(instance, definitions)
    path = variables_path(instance)
    stored = File.exist?(path) ? YAML.safe_load_file(path) : {}
    credhub = CredHubStandIn.new
    values = {}
    kept = definitions.to_h do |definition|
      name = definition.fetch('name')
      fingerprint = Digest::SHA256.hexdigest(JSON.generate(definition))
      entry = stored[name]
      values[name] = entry && entry['definition'] == fingerprint ? entry['value'] : credhub.value_of(definition, values)
      [name, { 'definition' => fingerprint, 'value' => values[name] }]
    end
    FileUtils.mkdir_p(File.dirname(path))
    File.write(path, YAML.dump(kept), perm: 0o600)
    values
  end

  def variables_path(instance)
    File.join(vms.state_dir, 'credhub', "#{instance.name}.yml")
  end

  # pgguard from this build, laid out as its packaging installs it; PostgreSQL and pgpool-II
  # from the host's Debian packages (the manifest's local ops-file points the jobs there).
  # Returns whether a file changed: the agent restarts the jobs of a VM whose packages changed.
  def install_packages(vm)
    package = File.join(vms.vcap(vm), 'packages', 'pgguard')
    FileUtils.mkdir_p([File.join(package, 'bin'), File.join(package, 'libexec', 'pgguard'),
                       File.join(package, 'share', 'pgguard', 'profiles')])
    files = %w[isolate launch postgres pgpool failover fence setup garp ping vip smoke selinux].filter_map do |program|
      source = File.join(@programs, program, "pgguard-#{program}")
      [source, File.join(package, 'bin', "pgguard-#{program}")] if File.exist?(source)
    end
    files << [File.join(@programs, 'ping', 'pgguard-ping'), File.join(package, 'libexec', 'pgguard', 'ping')]
    Dir.glob(File.join(@root, 'src', 'profiles', '*.conf.in')).each do |source|
      files << [source, File.join(package, 'share', 'pgguard', 'profiles', File.basename(source))]
    end
    changed = files.map { |source, target| install_file(source, target) }.any?
    # No SELinux on this host: the policy package is not compiled, as its packaging does there.
    selinux = File.join(vms.vcap(vm), 'packages', 'secure-postgres-selinux')
    FileUtils.mkdir_p(selinux)
    File.write(File.join(selinux, 'NOT-BUILT.txt'), "SELinux is not enabled on this host: the module is not needed.\n")
    changed
  end

  # Only what differs, and by rename: a running program's file is never written in place.
  # Returns whether it installed.
  def install_file(source, target)
    return false if File.exist?(target) && FileUtils.compare_file(source, target)

    FileUtils.cp(source, "#{target}.new", preserve: true)
    File.rename("#{target}.new", target)
    true
  end

  def jobs_unchanged?(vm, jobs)
    current = Dir.children(File.join(vms.vcap(vm), 'jobs')).sort
    return false unless current == jobs.keys.sort

    jobs.all? do |job, files|
      files.all? do |path, text|
        target = File.join(vms.vcap(vm), 'jobs', job, path)
        File.exist?(target) && File.read(target) == text
      end
    end
  end

  def write_jobs(vm, jobs)
    root = File.join(vms.vcap(vm), 'jobs')
    FileUtils.rm_rf(Dir.glob(File.join(root, '*')))
    jobs.each do |job, files|
      files.each do |path, text|
        target = File.join(root, job, path)
        FileUtils.mkdir_p(File.dirname(target))
        File.write(target, text)
        File.chmod(path.start_with?('bin/') ? 0o750 : 0o640, target)
      end
    end
  end

  def lifecycle_script(vm, job, script)
    path = "/var/vcap/jobs/#{job}/bin/#{script}"
    return unless File.exist?(File.join(vms.vcap(vm), 'jobs', job, 'bin', script))

    output, status = vms.run(vm, path)
    log = File.join(vms.vcap(vm), 'sys', 'log', job, "#{script}.stdout.log")
    FileUtils.mkdir_p(File.dirname(log))
    File.write(log, output, mode: 'a')
    raise "#{vm}: #{job} #{script} failed (exit #{status.exitstatus}):\n#{output}" unless status.success?
  end

  def monit(vm, *arguments)
    vms.run(vm, 'monit', '-c', '/var/vcap/monit/monitrc', *arguments)
  end

  def monit_running?(vm)
    vms.exists?(vm) && monit(vm, 'status').last.success?
  end

  # The agent's AddJob: each job's monit file, first checked against what the stemcells' monit
  # 5.2.5 parses (this host has a newer monit), copied to /var/vcap/monit/job/NNNN_JOB.monitrc in
  # the order of the instance group's jobs. A reboot keeps them: recreate and start reuse them.
  def install_monit_files(vm, jobs)
    dir = File.join(vms.vcap(vm), 'monit', 'job')
    FileUtils.mkdir_p(dir)
    FileUtils.rm_f(Dir.glob(File.join(dir, '*.monitrc')))
    jobs.each_with_index do |job, index|
      source = File.join(vms.vcap(vm), 'jobs', job, 'monit')
      output, status = Open3.capture2e('ruby', File.join(@root, 'tests', 'lint', 'monit525.rb'), source)
      raise "#{vm}: #{job}'s monit file would stop the stemcells' monit 5.2.5:\n#{output}" unless status.success?

      FileUtils.cp(source, File.join(dir, format('%<index>04d_%<job>s.monitrc', index: index, job: job)))
    end
  end

  # The agent's monit: its control file, monit started (or reloaded), then every service of
  # group vcap started one at a time, as the agent's job supervisor does, and a wait until
  # every process runs.
  def monit_start(vm)
    dir = File.join(vms.vcap(vm), 'monit')
    File.write(File.join(dir, 'monitrc'), MONITRC, perm: 0o600)
    if monit_running?(vm)
      monit(vm, 'reload')
      sleep 1
    else
      output, status = monit(vm)
      raise "#{vm}: monit did not start:\n#{output}" unless status.success?

      100.times do
        break if monit(vm, 'status').last.success?

        sleep 0.1
      end
    end
    vcap_services(vm).each { |service| monit_service(vm, 'start', service) }
    wait_running(vm)
  end

  # The services of group vcap, in the order monit reads them (the job files sorted by name,
  # each file from the top): the only ones the agent starts, stops and watches.
  def vcap_services(vm)
    Dir.glob(File.join(vms.vcap(vm), 'monit', 'job', '*.monitrc')).sort.flat_map do |path|
      File.read(path).split(/^(?=\s*check\s)/).filter_map do |stanza|
        name = stanza[/\A\s*check\s+\S+\s+(\S+)/, 1]
        name if name && stanza.match?(/^\s*group\s+vcap\s*$/)
      end
    end
  end

  # One action on one service through monit's HTTP interface (the CLI posts it there), as the
  # agent's StartService, StopService and UnmonitorService do.
  def monit_service(vm, action, service)
    output, status = monit(vm, action, service)
    raise "#{vm}: monit #{action} #{service} failed: #{output.strip}" unless status.success?
  end

  def wait_running(vm)
    deadline = now + 180
    loop do
      states = monit_summary(vm)
      return if !states.empty? && states.all? { |_, state| state == 'OK' }
      raise "#{vm}: not every process runs within 180 s: #{states.map { |n, s| "#{n}: #{s}" }.join(', ')}" if now > deadline

      unmonitored = states.filter_map { |name, state| name if state == 'Not monitored' }
      (vcap_services(vm) & unmonitored).each { |service| monit_service(vm, 'start', service) }
      sleep 1
    end
  end

  # process name => state, from monit's summary.
  def monit_summary(vm)
    output, = monit(vm, '-B', 'summary')
    output.lines.filter_map do |line|
      fields = line.strip.split(/\s{2,}/)
      [fields[0], fields[1]] if fields.size >= 3 && fields[2] == 'Process'
    end
  end

  # BOSH's stop: drain of every job (stdout must be one integer), then monit stop of every
  # process.
  def stop_jobs(vm)
    return unless monit_running?(vm)

    services = vcap_services(vm)
    services.each { |service| monit_service(vm, 'unmonitor', service) }
    Dir.children(File.join(vms.vcap(vm), 'jobs')).each do |job|
      next unless File.exist?(File.join(vms.vcap(vm), 'jobs', job, 'bin', 'drain'))

      output, status = vms.run(vm, "/var/vcap/jobs/#{job}/bin/drain", 'job_changed', 'hash_changed')
      raise "#{vm}: #{job} drain failed (exit #{status.exitstatus}): #{output}" unless status.success?
      raise "#{vm}: #{job} drain printed '#{output.strip}', not an integer" unless output.strip.match?(/\A-?\d+\z/)
    end
    services.each { |service| monit_service(vm, 'stop', service) }
    deadline = now + 60
    sleep 1 until monit_summary(vm).all? { |_, state| state == 'Not monitored' } || now > deadline
  end

  # pgguard-isolate verify of the VM's isolation job: the table in force equals the links'.
  def isolation_state(vm)
    return '-' unless File.exist?(File.join(vms.vcap(vm), 'jobs', 'isolation'))

    _, status = vms.run(vm, '/var/vcap/packages/pgguard/bin/pgguard-isolate', 'verify', '--config',
                        '/var/vcap/jobs/isolation/config/isolation.conf')
    status.success? ? 'in sync' : 'DRIFT'
  end

  # The process monit watches, from the pid file its job's monit file names: " (uid 999, 0, 2,
  # 1)" from /proc/PID/status.
  def sandbox_summary(vm, process)
    pid_file = monit_pid_files(vm)[process] or return ''
    pid = File.read(File.join(vms.vcap(vm), pid_file.delete_prefix('/var/vcap/'))).to_i
    status = File.read("/proc/#{pid}/status")
    field = ->(name) { status[/^#{name}:\s+(\S+)/, 1] }
    " (uid #{field.call('Uid')}, #{field.call('CapEff').sub(/\A0+(?=.)/, '')}, #{field.call('Seccomp')}, " \
      "#{field.call('NoNewPrivs')})"
  rescue Errno::ENOENT, Errno::ESRCH
    ''
  end

  # process name => pid file, from every `check process NAME with pidfile PATH` of the VM's jobs.
  def monit_pid_files(vm)
    Dir.glob(File.join(vms.vcap(vm), 'jobs', '*', 'monit')).each_with_object({}) do |path, result|
      File.read(path).scan(/check process\s+(\S+)\s+with pidfile\s+(\S+)/) { |name, file| result[name] = file }
    end
  end

  # The master's view of its standbys: name, state, sync state and replay lag in bytes.
  # Whichever PostgreSQL VM is the primary now (a failover swaps them), and its standby.
  def replication_state(instance)
    answers = %w[pg-master pg-standby].filter_map do |job|
      vm = "#{instance.letter}-#{job}-0"
      next unless vms.exists?(vm)

      output, status = vms.run(vm, 'runuser', '-u', 'postgres', '--', '/usr/lib/postgresql/15/bin/psql', '-X', '-At',
                               '-h', "/var/vcap/sys/run/#{job}", '-d', 'postgres', '-c',
                               "SELECT CASE WHEN pg_is_in_recovery() THEN '' ELSE coalesce((SELECT string_agg(" \
                               "application_name || ' ' || state || ' ' || sync_state || ', replay lag ' || " \
                               "pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) || ' bytes', '; ') " \
                               "FROM pg_stat_replication), 'NO STANDBY STREAMING') END")
      [vm, status.success? ? output.strip : nil]
    end
    primaries = answers.reject { |_, answer| answer.nil? || answer.empty? }
    return "unknown (no primary answers: #{answers.map(&:first).join(', ')})" if primaries.empty?
    return "SPLIT: #{primaries.map(&:first).join(' and ')} are both primaries" if primaries.size > 1

    vm, answer = primaries.first
    "primary #{vm}: #{answer}"
  end

  def vip_holder?(vm)
    return false unless vm.include?('-pgpool-')

    instance = @instances.find { |candidate| vm.start_with?("#{candidate.letter}-") }
    output, = vms.run(vm, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0')
    output.include?(" #{instance.ips['vip']}/")
  end

  def stage(title)
    started = now
    say "#{title} ..."
    result = yield
    say format('  done in %<s>.1f s', s: now - started)
    result
  end

  def say(line)
    @out.puts line
    @out.flush
  end

  def now
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end
end
