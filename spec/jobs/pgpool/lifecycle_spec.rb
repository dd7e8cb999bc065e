# frozen_string_literal: true

require 'yaml'

RSpec.describe 'pgpool job: lifecycle, setup plan, TLS and monit' do
  include_context 'rendering a job template'

  let(:job_dir) { File.join(RELEASE_DIR, 'jobs/pgpool') }
  let(:job) { release.job('pgpool') }
  let(:properties) do
    { 'pgpool' => { 'tls' => { 'certificate' => 'CERT', 'private_key' => 'KEY', 'ca' => 'CA' } } }
  end

  it 'names every template its spec lists, and each exists' do
    templates = YAML.load_file(File.join(job_dir, 'spec')).fetch('templates')
    templates.each_key { |source| expect(File).to exist(File.join(job_dir, 'templates', source)) }
  end

  it 'runs pre-start through pgguard-pgpool with its setup and pool plans' do
    text = job.template('bin/pre-start').render(properties)
    expect(text).to include('exec /var/vcap/packages/pgguard/bin/pgguard-pgpool pre-start')
    expect(text).to include('--setup /var/vcap/jobs/pgpool/config/setup.conf')
    expect(text).to include('--plan /var/vcap/jobs/pgpool/config/pool.conf')
  end

  it 'gives pgpool an account of its own and its key 0600, readable by nobody else' do
    text = job.template('config/setup.conf').render(properties)
    expect(text).to include("account = pgpool\n")
    expect(text).not_to match(/^account = (root|vcap|postgres)$/)
    expect(text).to include('install = /var/vcap/jobs/pgpool/config/tls/server.key /var/vcap/data/pgpool/config/server.key 0600 pgpool pgpool')
    expect(text).to include("directory = /var/vcap/data/pgpool/config 0750 root pgpool\n")
  end

  it 'renders a setup plan the real pgguard-setup accepts (check), with and without a VIP' do
    [properties, properties.merge('pgpool' => properties['pgpool'].merge('vip' => '198.18.1.20'))].each do |props|
      output, errors, status = run_helper_on('pgguard-setup', job.template('config/setup.conf').render(props),
                                             'setup.conf', 'check', '--plan', :file)
      expect([errors, status.exitstatus]).to eq(['', 0])
      expect(output).to match(/: ok \((1|2) accounts, /)
    end
  end

  it 'renders the TLS material as given' do
    expect(job.template('config/tls/server.key').render(properties)).to eq("KEY\n")
    expect(job.template('config/tls/server.crt').render(properties)).to eq("CERT\n")
    expect(job.template('config/tls/ca.crt').render(properties)).to eq("CA\n")
  end

  describe 'monit' do
    def monit(props = {})
      Bosh::Template::Test::Template.new(YAML.load_file(File.join(job_dir, 'spec')), File.join(job_dir, 'monit'))
                                    .render(props)
    end

    it 'watches pgpool by the pid file the launcher writes, after the isolation guard, in group vcap' do
      expect(monit).to include("check process pgpool\n  with pidfile /var/vcap/sys/run/pgpool/pgpool.pid\n")
      expect(monit).to match(/^  depends on isolation$/)
      expect(monit).to match(/^  group vcap$/)
      expect(monit).not_to include('pgpool-vip')
    end

    it 'starts (re-applying the setup plan, for reboots) and stops through pgguard-pgpool' do
      plan = '--plan /var/vcap/jobs/pgpool/config/pool.conf --log /var/vcap/sys/log/pgpool/pgguard-pgpool.log'
      setup = '--setup /var/vcap/jobs/pgpool/config/setup.conf'
      expect(monit).to include(%(start program "/var/vcap/packages/pgguard/bin/pgguard-pgpool start #{setup} #{plan}"))
      expect(monit).to include(%(stop program "/var/vcap/packages/pgguard/bin/pgguard-pgpool stop #{plan}"))
    end

    it 'with a VIP, runs the VIP broker first and pgpool after it' do
      text = monit('pgpool' => { 'vip' => '198.18.1.20' })
      expect(text).to match(/^  depends on isolation, pgpool-vip$/)
      expect(text).to include("check process pgpool-vip\n  with pidfile /var/vcap/sys/run/pgpool-vip/broker.pid\n")
      expect(text).to include('pgguard-pgpool start-vip --setup /var/vcap/jobs/pgpool/config/setup.conf')
      expect(text).to include('pgguard-pgpool stop-vip --plan /var/vcap/jobs/pgpool/config/pool.conf')
    end
  end

  it 'with a VIP, gives the broker an account of its own and a socket directory pgpool may enter' do
    text = job.template('config/setup.conf').render(properties.merge('pgpool' => properties['pgpool'].merge('vip' => '198.18.1.20')))
    expect(text).to include("account = pgpool-vip\n")
    expect(text).to include("directory = /var/vcap/sys/run/pgpool-vip 0755 root root\n")
    expect(text).to include("directory = /var/vcap/sys/run/pgpool-vip/socket 0750 pgpool-vip pgpool\n")
    expect(job.template('config/setup.conf').render(properties)).not_to include('pgpool-vip')
  end
end
