# frozen_string_literal: true

# What `bosh create-release` insists on, checked without the bosh CLI (not installable here):
# job directory name == spec name, every template declared in a spec exists, each package has
# a packaging script, and every `files` glob of a package matches something under src/ or a
# blob.
RSpec.describe 'release structure' do
  jobs = Dir.glob(File.join(RELEASE_DIR, 'jobs/*')).select { |path| File.directory?(path) }
  packages = Dir.glob(File.join(RELEASE_DIR, 'packages/*')).select { |path| File.directory?(path) }

  it 'has jobs and packages' do
    expect(jobs).not_to be_empty
    expect(packages).not_to be_empty
  end

  jobs.each do |job_dir|
    describe "job #{File.basename(job_dir)}" do
      let(:spec) { YAML.load_file(File.join(job_dir, 'spec')) }

      it 'is named like its directory' do
        expect(spec['name']).to eq(File.basename(job_dir))
      end

      it 'has every declared template' do
        spec.fetch('templates', {}).each_key do |source|
          expect(File).to exist(File.join(job_dir, 'templates', source)), "missing template #{source}"
        end
      end

      it 'has a monit file' do
        expect(File).to exist(File.join(job_dir, 'monit'))
      end

      it 'uses only packages of this release' do
        known = packages.map { |path| File.basename(path) }
        expect(spec.fetch('packages', []) - known).to eq([])
      end

      it 'describes every property' do
        spec.fetch('properties', {}).each do |name, definition|
          expect(definition).to include('description'), "property #{name} has no description"
        end
      end
    end
  end

  packages.each do |package_dir|
    describe "package #{File.basename(package_dir)}" do
      let(:spec) { YAML.load_file(File.join(package_dir, 'spec')) }

      it 'is named like its directory and has a packaging script' do
        expect(spec['name']).to eq(File.basename(package_dir))
        expect(File).to exist(File.join(package_dir, 'packaging'))
      end

      # blobs/ is filled by `bosh sync-blobs` (or scripts/add-blobs) from config/blobs.yml, and is
      # empty in a fresh clone: a glob naming a blob of config/blobs.yml counts as matching.
      it 'has files globs that each match something under src/ or blobs/ (or a blob of config/blobs.yml)' do
        blobs = (YAML.load_file(File.join(RELEASE_DIR, 'config/blobs.yml')) || {}).keys
        spec.fetch('files', []).each do |glob|
          matches = Dir.glob(File.join(RELEASE_DIR, 'src', glob)) + Dir.glob(File.join(RELEASE_DIR, 'blobs', glob)) +
                    blobs.select { |blob| File.fnmatch?(glob, blob, File::FNM_PATHNAME) }
          expect(matches).not_to be_empty, "files glob '#{glob}' matches nothing"
        end
      end
    end
  end

  it 'names the final release secure-postgres' do
    expect(YAML.load_file(File.join(RELEASE_DIR, 'config/final.yml'))['final_name']).to eq('secure-postgres')
  end
end
