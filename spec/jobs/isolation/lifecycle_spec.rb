# frozen_string_literal: true

RSpec.describe 'isolation job: lifecycle scripts and monit' do
  let(:job) { release.job('isolation') }
  let(:job_dir) { File.join(RELEASE_DIR, 'jobs/isolation') }
  let(:ctl) { job.template('bin/isolation_ctl') }

  it 'pre-start applies the rules through isolation_ctl and fails the deploy on error' do
    script = job.template('bin/pre-start').render({})
    expect(script).to start_with("#!/usr/bin/env bash\n")
    expect(script).to include('set -euo pipefail')
    expect(script).to include('exec /var/vcap/jobs/isolation/bin/isolation_ctl apply')
  end

  it 'isolation_ctl runs pgguard-isolate from the package with the rendered config' do
    script = ctl.render({})
    %w[apply verify remove].each do |subcommand|
      expect(script).to match(%r{"\$isolate" #{subcommand} --config "\$config"})
    end
    expect(script).to include('readonly isolate=/var/vcap/packages/pgguard/bin/pgguard-isolate')
  end

  it 'starts the guard in the foreground with the pid file monit watches' do
    script = ctl.render({})
    expect(script).to match(%r{exec "\$isolate" guard --background --config "\$config" --pid-file "\$pid_file" \\\n\s+--recheck-seconds 10\b})
    expect(script).to include('readonly pid_file="$run_dir/isolation.pid"')
  end

  it 'renders the recheck interval and refuses one out of range' do
    expect(ctl.render({ 'isolation' => { 'recheck_seconds' => 30 } })).to include('--recheck-seconds 30')
    [0, 3601, '10', 2.5].each do |value|
      expect { ctl.render({ 'isolation' => { 'recheck_seconds' => value } }) }
        .to raise_error(/isolation.recheck_seconds '#{Regexp.escape(value.to_s)}' must be a whole number of seconds, 1-3600/)
    end
  end

  it 'stops only a guard that holds its pid file lock' do
    script = ctl.render({})
    expect(script).to include('if [ -e "$pid_file" ] && ! flock --nonblock "$pid_file" true 2>/dev/null; then')
  end

  it 'monit watches the guard process by its pid file (no `check program`: monit 5.2.5)' do
    monit = File.read(File.join(job_dir, 'monit'))
    expect(monit).to include('check process isolation')
    expect(monit).to include('with pidfile /var/vcap/sys/run/isolation/isolation.pid')
    expect(monit).to include('start program "/var/vcap/jobs/isolation/bin/isolation_ctl start"')
    expect(monit).to include('stop program "/var/vcap/jobs/isolation/bin/isolation_ctl stop"')
    expect(monit).to match(/^\s+group vcap$/)
    expect(monit).not_to include('check program')
  end

  it 'never stops isolating: no drain or post-stop removes the rules' do
    templates = YAML.load_file(File.join(job_dir, 'spec'))['templates'].values
    expect(templates).not_to include('bin/drain', 'bin/post-stop', 'bin/pre-stop')
  end
end
