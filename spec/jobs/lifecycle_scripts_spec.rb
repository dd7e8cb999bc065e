# frozen_string_literal: true

# post-start and drain of the three service jobs: each hands the whole work to the job's helper
# (pgguard-postgres, pgguard-pgpool), so that pg-master and pg-standby share code, not shell.
RSpec.describe 'service jobs: post-start and drain' do
  {
    'pg-master' => %w[pgguard-postgres node.conf],
    'pg-standby' => %w[pgguard-postgres node.conf],
    'pgpool' => %w[pgguard-pgpool pool.conf]
  }.each do |job_name, (helper, plan)|
    context job_name do
      let(:job) { release.job(job_name) }

      it 'ships bin/post-start and bin/drain' do
        expect(job_spec(job_name)['templates']).to include('post-start.erb' => 'bin/post-start', 'drain.erb' => 'bin/drain')
      end

      it "post-start runs #{helper}'s check of the running service on the job's plan" do
        script = job.template('bin/post-start').render({})
        expect(script).to start_with("#!/usr/bin/env bash\n")
        expect(script).to include('set -euo pipefail')
        expect(script).to end_with("exec /var/vcap/packages/pgguard/bin/#{helper} post-start \\\n" \
                                   "  --plan /var/vcap/jobs/#{job_name}/config/#{plan}\n")
      end

      # BOSH reads drain's stdout as one integer: everything else goes to the job's log.
      it "drain runs #{helper}'s clean stop with its output in the job's log" do
        script = job.template('bin/drain').render({})
        expect(script).to include('set -euo pipefail')
        expect(script).to end_with("exec /var/vcap/packages/pgguard/bin/#{helper} drain \\\n" \
                                   "  --plan /var/vcap/jobs/#{job_name}/config/#{plan} \\\n" \
                                   "  --log /var/vcap/sys/log/#{job_name}/#{helper}.log\n")
        expect(script.lines.reject { |line| line.start_with?('#') }.join).not_to match(/\becho\b|\bprintf\b/)
      end
    end
  end
end
