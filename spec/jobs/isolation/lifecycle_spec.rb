# frozen_string_literal: true

RSpec.describe 'isolation job: lifecycle scripts and monit' do
  let(:job) { release.job('isolation') }
  let(:job_dir) { File.join(RELEASE_DIR, 'jobs/isolation') }

  it 'pre-start applies the rules through isolation_ctl and fails the deploy on error' do
    script = job.template('bin/pre-start').render({})
    expect(script).to start_with("#!/usr/bin/env bash\n")
    expect(script).to include('set -euo pipefail')
    expect(script).to include('exec /var/vcap/jobs/isolation/bin/isolation_ctl apply')
  end

  it 'isolation_ctl runs pgguard-isolate from the package with the rendered config' do
    script = job.template('bin/isolation_ctl').render({})
    %w[apply verify remove].each do |subcommand|
      expect(script).to match(%r{"\$isolate" #{subcommand} --config "\$config"})
    end
    expect(script).to include('readonly isolate=/var/vcap/packages/pgguard/bin/pgguard-isolate')
  end

  it 'monit verifies every cycle and re-applies on drift (the reboot path)' do
    monit = File.read(File.join(job_dir, 'monit'))
    expect(monit).to include('check program isolation')
    expect(monit).to include('with path "/var/vcap/jobs/isolation/bin/isolation_ctl verify"')
    expect(monit).to include('if status != 0 then exec "/var/vcap/jobs/isolation/bin/isolation_ctl apply"')
  end

  it 'never stops isolating: no drain or post-stop removes the rules' do
    templates = job.spec['templates'].values
    expect(templates).not_to include('bin/drain', 'bin/post-stop', 'bin/pre-stop')
  end
end
