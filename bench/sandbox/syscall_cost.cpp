// Per-system-call cost inside and outside the sandbox (bench/sandbox/run.sh, not a test).
// Prints the median nanoseconds of two cheap system calls that postgres makes and the
// postgres server profile allows: getppid (no work) and write to fd -1 (EBADF at once, so
// the filter's path for write is measured without any I/O). A difference between a run under
// pgguard-launch and one without is what the seccomp filter adds to every system call.
// Usage: syscall_cost <calls per sample>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

template <typename Call>
double median_ns_per_call(long calls, Call call) {
  constexpr int kSamples = 15;
  std::vector<double> samples;
  for (int sample = 0; sample < kSamples; ++sample) {
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < calls; ++i) {
      call();
    }
    const std::chrono::duration<double, std::nano> elapsed =
        std::chrono::steady_clock::now() - start;
    samples.push_back(elapsed.count() / static_cast<double>(calls));
  }
  std::nth_element(samples.begin(), samples.begin() + kSamples / 2, samples.end());
  return samples[kSamples / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const long calls = argc > 1 ? std::atol(argv[1]) : 0;
  if (calls <= 0) {
    std::fprintf(stderr, "usage: syscall_cost <calls per sample>\n");
    return 2;
  }
  // Raw system calls: glibc caches nothing for these, but say so explicitly.
  const double getppid_ns = median_ns_per_call(calls, [] { (void)::syscall(SYS_getppid); });
  const char byte = 0;
  const double write_ns =
      median_ns_per_call(calls, [&] { (void)::syscall(SYS_write, -1, &byte, 1); });
  std::printf("%.1f %.1f\n", getppid_ns, write_ns);
  return 0;
}
