# frozen_string_literal: true

require 'fileutils'
require 'open3'
require 'tmpdir'

# Compiles the pgguard package the way a BOSH compilation VM does: only the files its spec's
# globs select, copied from src/ into BOSH_COMPILE_TARGET, then `bash -x packaging` with BOSH's
# environment. Catches a source file the globs miss, and a packaging script that relies on the
# repository around src/.
#
# The dependency packages (libseccomp, libnftnl, Boost, ...; packages/pgguard/spec) are stood in
# for by this machine's -dev packages: each is an empty directory in BOSH_PACKAGES_DIR, and the
# pkgconf one is a pkg-config that searches the system's .pc files. Compiling against the real
# dependency packages, in a chroot holding only what a stemcell holds, is the packaging test's
# job (tests/packaging, docs/packaging.md).
RSpec.describe 'package pgguard: packaging', :slow do
  def stand_in_dependencies(packages_dir)
    YAML.load_file(File.join(RELEASE_DIR, 'packages/pgguard/spec')).fetch('dependencies', []).each do |name|
      FileUtils.mkdir_p(File.join(packages_dir, name))
    end
    pkg_config = File.join(packages_dir, 'pkgconf/bin/pkg-config')
    FileUtils.mkdir_p(File.dirname(pkg_config))
    File.write(pkg_config, "#!/bin/sh\nunset PKG_CONFIG_LIBDIR\nexec /usr/bin/pkg-config \"$@\"\n")
    FileUtils.chmod(0o755, pkg_config)
  end

  let(:package_dir) { File.join(RELEASE_DIR, 'packages/pgguard') }
  let(:globs) { YAML.load_file(File.join(package_dir, 'spec'))['files'] }

  it 'compiles from its declared files alone and installs the three helpers' do
    Dir.mktmpdir('pgguard-packaging') do |scratch|
      compile_target = File.join(scratch, 'compile/pgguard')
      install_target = File.join(scratch, 'packages/pgguard')
      FileUtils.mkdir_p([compile_target, install_target])
      stand_in_dependencies(File.join(scratch, 'packages'))
      src = File.join(RELEASE_DIR, 'src')
      globs.flat_map { |glob| Dir.glob(glob, base: src) }.uniq.each do |relative|
        next if File.directory?(File.join(src, relative))

        FileUtils.mkdir_p(File.join(compile_target, File.dirname(relative)))
        FileUtils.cp(File.join(src, relative), File.join(compile_target, relative))
      end

      environment = {
        'BOSH_COMPILE_TARGET' => compile_target, 'BOSH_INSTALL_TARGET' => install_target,
        'BOSH_PACKAGE_NAME' => 'pgguard', 'BOSH_PACKAGE_VERSION' => 'test',
        'BOSH_PACKAGES_DIR' => File.join(scratch, 'packages'), 'PATH' => '/usr/local/bin:/usr/bin:/bin'
      }
      output, status = Open3.capture2e(environment, 'bash', '-x', File.join(package_dir, 'packaging'),
                                       chdir: compile_target, unsetenv_others: true)
      expect(status.exitstatus).to eq(0), output.lines.last(30).join

      %w[pgguard-isolate pgguard-launch pgguard-selinux pgguard-garp pgguard-smoke pgguard-vip].each do |program|
        path = File.join(install_target, 'bin', program)
        expect(File.executable?(path)).to be(true), "#{program} not installed"
        _, help_status = Open3.capture2e(path, '--help')
        expect(help_status.exitstatus).to eq(0), "#{program} --help failed"
      end
    end
  end
end
