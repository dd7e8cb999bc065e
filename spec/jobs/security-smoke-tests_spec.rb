# frozen_string_literal: true

# The security-smoke-tests errand: bin/run hands everything to pgguard-smoke, and
# config/smoke.conf carries the process table and the allowed listeners (golden file), checked
# again by the real pgguard-smoke parser.
RSpec.describe 'security-smoke-tests job (errand)' do
  include_context 'rendering a job template'

  let(:job) { release.job('security-smoke-tests') }
  let(:job_dir) { File.join(RELEASE_DIR, 'jobs/security-smoke-tests') }
  let(:template) { job.template('config/smoke.conf') }
  let(:links) { [] }
  let(:instance) do
    Bosh::Template::Test::InstanceSpec.new(name: 'pg-master', index: 0, ip: '198.18.1.11',
                                           deployment: 'service-fabrik-0021-6f1a')
  end
  let(:properties) { {} }

  def with_process(index, changes)
    processes = Marshal.load(Marshal.dump(job_spec('security-smoke-tests')['properties']['processes']['default']))
    processes[index] = processes[index].merge(changes).compact
    with('processes', processes)
  end

  it 'is an errand: bin/run, an empty monit file (no process to watch), the pgguard package' do
    spec = job_spec('security-smoke-tests')
    expect(spec['templates']).to eq('run.erb' => 'bin/run', 'smoke.conf.erb' => 'config/smoke.conf')
    expect(spec['packages']).to eq(['pgguard'])
    expect(File.read(File.join(job_dir, 'monit'))).to eq('')
  end

  it 'describes every property, each with a default' do
    job_spec('security-smoke-tests')['properties'].each do |name, definition|
      expect(definition).to include('description', 'default'), "property #{name}"
    end
  end

  it 'bin/run execs pgguard-smoke with the rendered configuration' do
    script = job.template('bin/run').render({})
    expect(script).to start_with("#!/usr/bin/env bash\n")
    expect(script).to include('set -euo pipefail')
    expect(script).to include("exec /var/vcap/packages/pgguard/bin/pgguard-smoke \\\n" \
                              '  --config /var/vcap/jobs/security-smoke-tests/config/smoke.conf')
  end

  it 'renders the golden file with the defaults' do
    expect(render).to eq(golden('security-smoke-tests/smoke.conf'))
  end

  it 'renders the requirements and the allowed listeners of the properties' do
    output = render(with('selinux.required', true).merge('landlock' => { 'required' => true },
                                                         'allowed_listeners' => ['tcp:*:6868', 'udp:[fd00::1]:53']))
    expect(output).to include("selinux_required = true\n", "landlock_required = true\n")
    expect(output.lines.grep(/^allow = /)).to eq(["allow = tcp:*:6868\n", "allow = udp:[fd00::1]:53\n"])
  end

  it 'renders a process without only_if_profile_exists and a table of one' do
    processes = [{ 'job' => 'pgpool', 'name' => 'pgpool', 'comm' => 'pgpool', 'pid_file' => '/var/vcap/sys/run/pgpool/pgpool.pid',
                   'profile' => '/var/vcap/data/pgpool/config/pgpool.profile' }]
    expect(render(with('processes', processes)).lines.grep(/^process = /))
      .to eq(["process = pgpool pgpool pgpool /var/vcap/sys/run/pgpool/pgpool.pid /var/vcap/data/pgpool/config/pgpool.profile\n"])
  end

  describe 'refuses at render time' do
    {
      'selinux.required that is no boolean' => [->(s) { s.with('selinux.required', 'yes') },
                                                "selinux.required must be true or false, not 'yes'"],
      'landlock.required that is no boolean' => [->(s) { s.with('landlock.required', 1) },
                                                 "landlock.required must be true or false, not '1'"],
      'processes that is no list' => [->(s) { s.with('processes', 'postgres') }, 'processes must be a list'],
      'a process that is no hash' => [->(s) { s.with('processes', ['postgres']) }, 'processes[0] must be a hash'],
      'an unknown key' => [->(s) { s.with_process(0, 'user' => 'postgres') }, 'processes[0] has unknown key(s) user'],
      'a job name with a space' => [->(s) { s.with_process(1, 'job' => 'pg standby') },
                                    "processes[1].job 'pg standby' must be 1-64 characters"],
      'a missing name' => [->(s) { s.with_process(0, 'name' => nil) }, "processes[0].name '' must be 1-64 characters"],
      'a comm longer than the kernel keeps' => [->(s) { s.with_process(2, 'comm' => 'pgpool-main-process') },
                                                "processes[2].comm 'pgpool-main-process' must be 1-15 printable characters"],
      'a relative pid file' => [->(s) { s.with_process(0, 'pid_file' => 'run/postgres.pid') },
                                "processes[0].pid_file 'run/postgres.pid' is not a normalized absolute path"],
      'a pid file with ..' => [->(s) { s.with_process(0, 'pid_file' => '/var/vcap/sys/run/../postgres.pid') },
                               "processes[0].pid_file '/var/vcap/sys/run/../postgres.pid' is not a normalized"],
      'a pid file listed twice' => [->(s) { s.with_process(1, 'pid_file' => '/var/vcap/sys/run/pg-master/postgres.pid') },
                                    'processes[1].pid_file /var/vcap/sys/run/pg-master/postgres.pid is listed twice'],
      'a missing profile' => [->(s) { s.with_process(0, 'profile' => nil) },
                              'processes[0].profile is missing (or set runs_as_root: true)'],
      'a profile path with a space' => [->(s) { s.with_process(0, 'profile' => '/var/vcap/data/my profile') },
                                        "processes[0].profile '/var/vcap/data/my profile' is not a normalized"],
      'a profile for a root process' => [->(s) { s.with_process(4, 'profile' => '/var/vcap/data/x.profile') },
                                         'processes[4]: a profile and runs_as_root: true exclude each other'],
      'only_if_profile_exists for a root process' => [->(s) { s.with_process(4, 'only_if_profile_exists' => true) },
                                                      'processes[4]: only_if_profile_exists needs a profile'],
      'runs_as_root that is no boolean' => [->(s) { s.with_process(4, 'runs_as_root' => 'yes') },
                                            'processes[4].runs_as_root must be true or false'],
      'allowed_listeners that is no list' => [->(s) { s.with('allowed_listeners', 'tcp:127.0.0.1:2822') },
                                              'allowed_listeners must be a list'],
      'a listener without protocol' => [->(s) { s.with('allowed_listeners', ['127.0.0.1:2822']) },
                                        "allowed_listeners[0] '127.0.0.1:2822' is not PROTOCOL:ADDRESS:PORT"],
      'a listener with a host name' => [->(s) { s.with('allowed_listeners', ['tcp:localhost:2822']) },
                                        "allowed_listeners[0] 'tcp:localhost:2822' is not PROTOCOL:ADDRESS:PORT"],
      'an IPv6 listener without brackets' => [->(s) { s.with('allowed_listeners', ['udp:::1:323']) },
                                              "allowed_listeners[0] 'udp:::1:323' is not PROTOCOL:ADDRESS:PORT"],
      'a bracketed IPv4 listener' => [->(s) { s.with('allowed_listeners', ['udp:[127.0.0.1]:323']) },
                                      "allowed_listeners[0] 'udp:[127.0.0.1]:323' is not PROTOCOL:ADDRESS:PORT"],
      'a listener on port 0' => [->(s) { s.with('allowed_listeners', ['tcp:*:0']) },
                                 "allowed_listeners[0] 'tcp:*:0' is not PROTOCOL:ADDRESS:PORT"],
      'a listener on port 70000' => [->(s) { s.with('allowed_listeners', ['tcp:*:1', 'tcp:*:70000']) },
                                     "allowed_listeners[1] 'tcp:*:70000' is not PROTOCOL:ADDRESS:PORT"],
      'a listener with a bad address' => [->(s) { s.with('allowed_listeners', ['tcp:300.1.1.1:22']) },
                                          "allowed_listeners[0] 'tcp:300.1.1.1:22' is not PROTOCOL:ADDRESS:PORT"]
    }.each do |what, (change, message)|
      it "#{what}, naming the property" do
        expect { render(change.call(self)) }.to raise_error(/security-smoke-tests: .*#{Regexp.escape(message)}/)
      end
    end
  end

  it 'is accepted by the real pgguard-smoke parser (--check-config)' do
    output, errors, status = run_helper_on('pgguard-smoke', render, 'smoke.conf', '--config', :file, '--check-config')
    expect(errors).to eq('')
    expect(status.exitstatus).to eq(0)
    expect(output).to end_with(": ok (7 processes, 6 job ports, 3 allowed listeners)\n")
  end

  it 'renders what pgguard-smoke accepts for every valid listener form' do
    listeners = ['tcp:*:22', 'udp:[::1]:323', 'tcp:10.0.0.1:6868', 'udp:[fd00::53]:53']
    output, errors, status = run_helper_on('pgguard-smoke', render(with('allowed_listeners', listeners)), 'smoke.conf',
                                           '--config', :file, '--check-config')
    expect([errors, status.exitstatus]).to eq(['', 0])
    expect(output).to include('4 allowed listeners')
  end
end
