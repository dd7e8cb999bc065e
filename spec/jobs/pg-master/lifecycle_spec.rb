# frozen_string_literal: true

RSpec.describe 'pg-master job: lifecycle, setup plan, TLS and monit' do
  let(:job) { release.job('pg-master') }
  let(:job_dir) { File.join(RELEASE_DIR, 'jobs/pg-master') }
  let(:certificate) { "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n" }
  let(:key) { "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n" }
  let(:tls) { { 'postgres' => { 'tls' => { 'certificate' => certificate, 'private_key' => key, 'ca' => certificate } } } }

  it 'pre-start hands everything to pgguard-postgres with the setup plan and the node plan' do
    script = job.template('bin/pre-start').render({})
    expect(script).to start_with("#!/usr/bin/env bash\n")
    expect(script).to include('set -euo pipefail')
    expect(script).to include("exec /var/vcap/packages/pgguard/bin/pgguard-postgres pre-start \\\n" \
                              "  --setup /var/vcap/jobs/pg-master/config/setup.conf \\\n" \
                              '  --plan /var/vcap/jobs/pg-master/config/node.conf')
  end

  describe 'config/setup.conf' do
    let(:setup) { job.template('config/setup.conf').render({}) }

    it 'runs postgres as its own account, never root or vcap' do
      expect(setup.lines.grep(/^account = /)).to eq(["account = postgres\n"])
    end

    it 'keeps the data directory private to postgres and the generated files read-only for it' do
      expect(setup).to include("directory = /var/vcap/store/pg-master/data 0700 postgres postgres\n")
      expect(setup).to include("directory = /var/vcap/data/pg-master/config 0750 root postgres\n")
    end

    it 'installs the private key 0600 for postgres and the certificates 0644' do
      expect(setup).to include('install = /var/vcap/jobs/pg-master/config/tls/server.key ' \
                               "/var/vcap/data/pg-master/config/server.key 0600 postgres postgres\n")
      expect(setup).to include('install = /var/vcap/jobs/pg-master/config/tls/server.crt ' \
                               "/var/vcap/data/pg-master/config/server.crt 0644 root root\n")
    end

    it 'creates every path the node plan names (pgguard-launch refuses a missing Landlock path)' do
      node_paths = File.read(File.join(RELEASE_DIR, 'spec/fixtures/pg-master/node.conf'))
                       .scan(%r{^(?:data|archive|scratch|runtime|logs|config) = (/\S+)$}).flatten
      directories = setup.scan(/^directory = (\S+)/).flatten
      expect(node_paths - directories).to eq([])
    end
  end

  describe 'TLS files' do
    # Their content is checked where it is used: pre-start's server refuses a bad certificate or
    # key with PostgreSQL's own message, before the job is started.
    it 'render the PEM material as given' do
      expect(job.template('config/tls/server.crt').render(tls)).to eq("#{certificate}\n")
      expect(job.template('config/tls/server.key').render(tls)).to eq("#{key}\n")
      expect(job.template('config/tls/ca.crt').render(tls)).to eq("#{certificate}\n")
    end

    it 'refuse a missing value, naming the property' do
      expect { job.template('config/tls/server.crt').render({}) }.to raise_error(/postgres.tls.certificate/)
      expect { job.template('config/tls/server.key').render({}) }.to raise_error(/postgres.tls.private_key/)
      expect { job.template('config/tls/ca.crt').render({}) }.to raise_error(/postgres.tls.ca/)
    end
  end

  describe 'monit' do
    let(:monit) { File.read(File.join(job_dir, 'monit')) }

    it 'watches postgres by the pid file the launcher writes' do
      expect(monit).to include("check process postgres\n  with pidfile /var/vcap/sys/run/pg-master/postgres.pid\n")
    end

    it 'starts and stops through pgguard-postgres with the node plan, logging to the job log' do
      plan = '--plan /var/vcap/jobs/pg-master/config/node.conf --log /var/vcap/sys/log/pg-master/pgguard-postgres.log'
      # The start re-applies the setup plan: after a reboot /var/vcap/sys/run (a tmpfs) is empty.
      setup = '--setup /var/vcap/jobs/pg-master/config/setup.conf'
      expect(monit).to include(%(start program "/var/vcap/packages/pgguard/bin/pgguard-postgres start #{setup} #{plan}"))
      expect(monit).to include(%(stop program "/var/vcap/packages/pgguard/bin/pgguard-postgres stop #{plan}"))
    end

    it 'starts only after the isolation guard, in group vcap' do
      expect(monit).to match(/^  depends on isolation$/)
      expect(monit).to match(/^  group vcap$/)
    end
  end
end
