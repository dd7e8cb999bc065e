# frozen_string_literal: true

require 'fileutils'
require 'ipaddr'
require 'open3'

# The "VMs" of the local deployment: each a network namespace whose eth0 is on one network's
# bridge, plus one long-lived mount namespace (its holder process) in which /etc and /var are
# overlays whose writes stay in the VM's own directory, and /var/vcap is the VM's own tree.
# The networks are bridges in one router namespace, whose address on each is the network's
# gateway, with forwarding on: the data plane, the control network and the application network
# reach each other only through it, and nothing reaches the host's own network.
#
# Every name carries the deployment's prefix, and the state (holder pids, the VMs' trees) lives
# below state_dir, so a later command (status, delete) finds what an earlier one made, and
# delete removes exactly that.
class LocalVms
  Vm = Struct.new(:name, :address, :network, :dir)

  attr_reader :prefix, :state_dir

  def initialize(prefix:, state_dir:)
    @prefix = prefix
    @state_dir = state_dir
    # Instances deploy side by side: the router's port numbers are handed out one at a time.
    @ports = Mutex.new
  end

  def router
    "#{prefix}-router"
  end

  def namespace(name)
    "#{prefix}-#{name}"
  end

  def vm_dir(name)
    File.join(state_dir, 'vms', name)
  end

  def vcap(name)
    File.join(vm_dir(name), 'vcap')
  end

  # The router and one bridge per subnet of the cloud config's networks, each with its
  # gateway's address. Idempotent.
  def network_up(cloud_config)
    unless namespaces.include?(router)
      sh('ip', 'netns', 'add', router)
      sh('ip', '-n', router, 'link', 'set', 'lo', 'up')
      sh('ip', 'netns', 'exec', router, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1')
    end
    bridges(cloud_config).each do |bridge, (gateway, prefix_length)|
      next if sh_ok?('ip', '-n', router, 'link', 'show', bridge)

      sh('ip', '-n', router, 'link', 'add', bridge, 'type', 'bridge')
      sh('ip', '-n', router, 'addr', 'add', "#{gateway}/#{prefix_length}", 'dev', bridge)
      sh('ip', '-n', router, 'link', 'set', bridge, 'up')
    end
  end

  # bridge name => [gateway, prefix length], one per subnet, in the cloud config's order.
  def bridges(cloud_config)
    index = 0
    cloud_config.fetch('networks').each_with_object({}) do |network, result|
      network.fetch('subnets').each do |subnet|
        range = IPAddr.new(subnet.fetch('range'))
        result["br#{index}"] = [subnet.fetch('gateway'), range.prefix]
        index += 1
      end
    end
  end

  def bridge_for(cloud_config, address)
    index = 0
    cloud_config.fetch('networks').each do |network|
      network.fetch('subnets').each do |subnet|
        return ["br#{index}", subnet] if IPAddr.new(subnet.fetch('range')).include?(IPAddr.new(address))

        index += 1
      end
    end
    raise "#{address} is in no subnet of the local cloud config"
  end

  def exists?(name)
    File.exist?(File.join(vm_dir(name), 'holder.pid')) && holder_alive?(name)
  end

  # A VM at `address` on the subnet that holds it. Its veth's router end is named after a
  # number kept in the state (interface names are limited to 15 characters).
  def create(name, address, cloud_config)
    dir = vm_dir(name)
    %w[etc-upper etc-work var-upper var-work].each { |sub| FileUtils.mkdir_p(File.join(dir, sub)) }
    %w[jobs packages store data sys/log sys/run bosh].each { |sub| FileUtils.mkdir_p(File.join(dir, 'vcap', sub)) }
    bridge, subnet = bridge_for(cloud_config, address)
    ns = namespace(name)
    port = @ports.synchronize { "v#{next_port_number}" }
    sh('ip', 'netns', 'add', ns)
    sh('ip', '-n', ns, 'link', 'set', 'lo', 'up')
    sh('ip', '-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', router)
    sh('ip', '-n', router, 'link', 'set', port, 'master', bridge, 'up')
    sh('ip', '-n', ns, 'addr', 'add', "#{address}/#{IPAddr.new(subnet.fetch('range')).prefix}", 'dev', 'eth0')
    sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up')
    sh('ip', '-n', ns, 'route', 'add', 'default', 'via', subnet.fetch('gateway'))
    File.write(File.join(dir, 'address'), "#{address}\n")
    File.write(File.join(dir, 'gateway'), "#{subnet.fetch('gateway')}\n")
    File.write(File.join(dir, 'prefix'), "#{IPAddr.new(subnet.fetch('range')).prefix}\n")
    start_holder(name)
  end

  # After a reboot of the VM (recreate with reboot semantics): every process of the VM is
  # gone, /var/vcap/sys/run (a tmpfs on a stemcell) is empty, the kernel's rules are gone with
  # a fresh network namespace state; the persistent and ephemeral disks stay.
  def reboot(name)
    kill_processes(name)
    FileUtils.rm_rf(File.join(vcap(name), 'sys', 'run'))
    FileUtils.mkdir_p(File.join(vcap(name), 'sys', 'run'))
    # monit's pid file outlives it on disk, as on a real reboot; a killed daemon's pid may still
    # name a zombie for a moment, which monit's CLI would take for a running daemon.
    FileUtils.rm_f(File.join(vcap(name), 'monit', 'monit.pid'))
    run(name, 'nft', 'flush', 'ruleset', holder: false)
    # Addresses the VIP broker added are gone too; the VM's own comes back from its network.
    address = address(name)
    gateway = File.read(File.join(vm_dir(name), 'gateway')).strip
    prefix_length = File.read(File.join(vm_dir(name), 'prefix')).strip
    ns = namespace(name)
    sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up')
    sh('ip', '-n', ns, 'addr', 'flush', 'dev', 'eth0')
    sh('ip', '-n', ns, 'addr', 'add', "#{address}/#{prefix_length}", 'dev', 'eth0')
    sh('ip', '-n', ns, 'route', 'replace', 'default', 'via', gateway)
    start_holder(name)
  end

  # The VM is lost, as a powered-off machine: its link down first, then every process killed
  # at once (no stop program runs); its disks stay. reboot brings it back. In that order: a
  # process killed while the link is up has its kernel close its connections, which tells the
  # peers at once (pgpool's watchdog elects a new VIP holder within a second), where a machine
  # that loses power says nothing and its peers must time out.
  def power_off(name)
    sh('ip', '-n', namespace(name), 'link', 'set', 'eth0', 'down')
    kill_processes(name)
  end

  # The VM frozen, as a paused VM or one stalled on its storage: every process stopped
  # (SIGSTOP), its link up; thaw resumes them all (SIGCONT). A process forked meanwhile cannot
  # exist: its parent is stopped.
  def freeze(name)
    signal_every_process(name, 'STOP')
  end

  def thaw(name)
    signal_every_process(name, 'CONT')
  end

  def signal_every_process(name, signal)
    raise "no VM #{name} in this deployment" unless names.include?(name)

    pids(namespace(name)).each { |pid| Process.kill(signal, pid) rescue nil } # rubocop:disable Style/RescueModifier
  end

  # A network partition: the VM and the addresses `peers` no longer reach each other, both
  # ways; everything else still flows. A table of its own beside the isolation job's, which
  # the isolation guard leaves alone.
  def partition(name, peers)
    elements = peers.join(', ')
    sh('ip', 'netns', 'exec', namespace(name), 'nft', '-f', '-', stdin_data: <<~NFT)
      table inet local_partition {
        chain input { type filter hook input priority -300; ip saddr { #{elements} } drop; }
        chain output { type filter hook output priority -300; ip daddr { #{elements} } drop; }
      }
    NFT
  end

  def heal(name)
    sh('ip', 'netns', 'exec', namespace(name), 'nft', 'delete', 'table', 'inet', 'local_partition')
  end

  # A command on the VM (its network, mount and IPC namespaces), as root. Returns [output, status].
  def run(name, *command, input: nil, holder: true)
    prefix_command = if holder
                       ['nsenter', '--target', holder_pid(name).to_s, '--mount', '--net', '--ipc', '--']
                     else
                       ['ip', 'netns', 'exec', namespace(name)]
                     end
    output, status = Open3.capture2e(*prefix_command, *command, stdin_data: input)
    [output, status]
  end

  def run!(name, *command, input: nil)
    output, status = run(name, *command, input: input)
    raise "#{name}: #{command.join(' ')} failed (exit #{status.exitstatus}):\n#{output}" unless status.success?

    output
  end

  # Every VM this state knows, by name.
  def names
    Dir.glob(File.join(state_dir, 'vms', '*', 'address')).map { |path| File.basename(File.dirname(path)) }.sort
  end

  def address(name)
    File.read(File.join(vm_dir(name), 'address')).strip
  end

  # Removes every process, namespace and directory of this prefix; what another prefix made
  # stays.
  def delete_all
    ours = namespaces.select { |ns| ns.start_with?("#{prefix}-") }
    ours.each do |ns|
      kill_in_namespace(ns)
      sh('ip', 'netns', 'del', ns)
    end
    FileUtils.rm_rf(state_dir)
  end

  def namespaces
    `ip netns list`.lines.map { |line| line.split.first }.compact
  end

  def pids(ns)
    `ip netns pids #{ns} 2>/dev/null`.split.map(&:to_i)
  end

  private

  def next_port_number
    path = File.join(state_dir, 'next-port')
    number = File.exist?(path) ? File.read(path).to_i : 0
    File.write(path, "#{number + 1}\n")
    number
  end

  def holder_pid(name)
    File.read(File.join(vm_dir(name), 'holder.pid')).to_i
  end

  def holder_alive?(name)
    pid = holder_pid(name)
    pid.positive? && File.exist?("/proc/#{pid}") && File.read("/proc/#{pid}/cmdline").include?('local-vm-holder')
  rescue Errno::ENOENT
    false
  end

  # Until each one is gone from /proc, zombies included: a postmaster's pid still taken by
  # its zombie would make the next postgres refuse the data directory's lock file. Each round
  # kills what is there now: a child forked between the listing and the kill (pgpool forks
  # its children all the time) would otherwise outlive the VM.
  def kill_processes(name)
    kill_in_namespace(namespace(name), until_reaped: true)
  end

  # until_reaped: also until the killed pids are gone from /proc; a namespace about to be
  # deleted does not need its zombies reaped first.
  def kill_in_namespace(ns, until_reaped: false)
    killed = []
    100.times do
      current = pids(ns)
      break if current.empty? && (!until_reaped || killed.none? { |pid| File.exist?("/proc/#{pid}") })

      current.each { |pid| Process.kill('KILL', pid) rescue nil } # rubocop:disable Style/RescueModifier
      killed |= current
      sleep 0.1
    end
  end

  # The holder keeps the VM's mount and IPC namespaces alive (vm-holder.sh). An IPC namespace
  # of its own makes a VM's System V shared memory go with the VM, as a real VM's does: a
  # pgpool killed with -9 leaves its segment behind (pgpool-II removes it only on a clean
  # exit), 130 MB each time, which on the host would never be freed.
  def start_holder(name)
    dir = vm_dir(name)
    ready = File.join(dir, 'ready')
    FileUtils.rm_f(ready)
    pid = Process.spawn('ip', 'netns', 'exec', namespace(name), 'unshare', '--mount', '--ipc', '--propagation', 'private', '--',
                        'bash', File.join(__dir__, 'vm-holder.sh'), dir,
                        in: '/dev/null', out: '/dev/null', err: File.join(dir, 'holder.err'), pgroup: true)
    Process.detach(pid)
    100.times do
      break if File.exist?(ready)

      sleep 0.05
    end
    raise "VM #{name}: its mount namespace did not come up (#{File.join(dir, 'holder.err')})" unless File.exist?(ready)

    # The holder is the `sleep` the script exec'd: the spawned `ip netns exec` exec'd unshare,
    # which exec'd bash, which exec'd sleep, so the pid is the same.
    File.write(File.join(dir, 'holder.pid'), "#{pid}\n")
  end

  def sh(*command, stdin_data: nil)
    output, status = Open3.capture2e(*command, stdin_data: stdin_data)
    raise "#{command.join(' ')} failed:\n#{output}" unless status.success?

    output
  end

  def sh_ok?(*command)
    _, status = Open3.capture2e(*command)
    status.success?
  end
end
