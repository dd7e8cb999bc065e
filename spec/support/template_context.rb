# frozen_string_literal: true

# What every template spec needs, given `template`, `properties`, `links` and `instance`:
# render with the realistic inputs, or with one property changed.
RSpec.shared_context 'rendering a job template' do
  def render(props = properties, consumes: links, spec: instance)
    template.render(props, spec: spec, consumes: consumes)
  end

  # A deep copy of `properties` with the dotted `path` set to `value`.
  def with(path, value)
    props = Marshal.load(Marshal.dump(properties))
    *parents, leaf = path.split('.')
    parents.reduce(props) { |level, key| level[key] ||= {} }[leaf] = value
    props
  end

  def golden(relative)
    File.read(File.join(RELEASE_DIR, 'spec/fixtures', relative))
  end
end

# The sandbox properties every service job takes (pg-master, pg-standby, pgpool): rendered into
# its plan's [sandbox] section, which pgguard-postgres and pgguard-pgpool apply to the profiles.
RSpec.shared_examples 'a job with sandbox properties' do |job_name|
  it 'renders the defaults: errno, the profile\'s rlimits, nothing required' do
    expect(render).to end_with("\n[sandbox]\nseccomp_default_action = errno\n" \
                               "landlock_required = false\nselinux_required = false\n")
  end

  it 'renders the operator\'s settings' do
    props = with('sandbox', { 'seccomp_default_action' => 'kill_process',
                              'rlimits' => { 'nofile' => '8192:8192', 'as' => '4G' } })
    props['landlock'] = { 'required' => true }
    props['selinux'] = { 'required' => true }
    expect(render(props)).to end_with("\n[sandbox]\nseccomp_default_action = kill_process\n" \
                                      "rlimit = nofile 8192:8192\nrlimit = as 4G\n" \
                                      "landlock_required = true\nselinux_required = true\n")
  end

  {
    'an unknown seccomp action' => [%w[sandbox.seccomp_default_action allow],
                                    "#{job_name}: sandbox.seccomp_default_action 'allow' must be errno, kill_process or log"],
    'rlimits that are no hash' => [['sandbox.rlimits', ['nofile']], 'sandbox.rlimits must be a hash'],
    'an unknown rlimit' => [['sandbox.rlimits', { 'files' => '1:1' }], "sandbox.rlimits: unknown limit 'files'"],
    'a malformed rlimit' => [['sandbox.rlimits', { 'nofile' => 'many' }], "sandbox.rlimits.nofile 'many' is not SOFT:HARD"],
    'a line break in an rlimit' => [['sandbox.rlimits', { 'nofile' => "1\nuser = root" }], 'sandbox.rlimits.nofile'],
    'landlock.required that is no boolean' => [['landlock.required', 'yes'], 'landlock.required must be true or false'],
    'selinux.required that is no boolean' => [['selinux.required', 'yes'], 'selinux.required must be true or false']
  }.each do |what, ((path, value), message)|
    it "refuses #{what}" do
      expect { render(with(path, value)) }.to raise_error(RuntimeError, /#{Regexp.escape(message)}/)
    end
  end
end
