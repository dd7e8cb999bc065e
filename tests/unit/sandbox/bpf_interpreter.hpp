#pragma once

// A classic-BPF interpreter for seccomp programs, so unit tests can ask what a compiled filter
// answers for a given syscall, architecture and arguments without loading it.
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstring>
#include <vector>

namespace pgguard::sandbox::test {

inline std::uint32_t run_seccomp_bpf(const std::vector<sock_filter>& program,
                                     const seccomp_data& data) {
  std::uint32_t a = 0;
  std::uint32_t x = 0;
  std::uint32_t memory[BPF_MEMWORDS] = {};
  std::size_t pc = 0;
  const auto word_at = [&](std::uint32_t offset) {
    BOOST_REQUIRE(offset % 4 == 0 && offset + 4 <= sizeof data);
    std::uint32_t value = 0;
    std::memcpy(&value, reinterpret_cast<const char*>(&data) + offset, 4);
    return value;
  };
  for (std::size_t steps = 0; steps < 100000; ++steps) {
    BOOST_REQUIRE(pc < program.size());
    const sock_filter& instruction = program[pc++];
    const std::uint32_t k = instruction.k;
    switch (instruction.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        a = word_at(k);
        break;
      case BPF_LD | BPF_MEM:
        a = memory[k];
        break;
      case BPF_LDX | BPF_MEM:
        x = memory[k];
        break;
      case BPF_LD | BPF_IMM:
        a = k;
        break;
      case BPF_LDX | BPF_IMM:
        x = k;
        break;
      case BPF_ST:
        memory[k] = a;
        break;
      case BPF_STX:
        memory[k] = x;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a &= k;
        break;
      case BPF_ALU | BPF_OR | BPF_K:
        a |= k;
        break;
      case BPF_ALU | BPF_AND | BPF_X:
        a &= x;
        break;
      case BPF_MISC | BPF_TAX:
        x = a;
        break;
      case BPF_MISC | BPF_TXA:
        a = x;
        break;
      case BPF_JMP | BPF_JA:
        pc += k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += (a == k) ? instruction.jt : instruction.jf;
        break;
      case BPF_JMP | BPF_JGT | BPF_K:
        pc += (a > k) ? instruction.jt : instruction.jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_K:
        pc += (a >= k) ? instruction.jt : instruction.jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += (a & k) ? instruction.jt : instruction.jf;
        break;
      case BPF_JMP | BPF_JEQ | BPF_X:
        pc += (a == x) ? instruction.jt : instruction.jf;
        break;
      case BPF_JMP | BPF_JGT | BPF_X:
        pc += (a > x) ? instruction.jt : instruction.jf;
        break;
      case BPF_JMP | BPF_JGE | BPF_X:
        pc += (a >= x) ? instruction.jt : instruction.jf;
        break;
      case BPF_RET | BPF_K:
        return k;
      case BPF_RET | BPF_A:
        return a;
      default:
        BOOST_FAIL("unsupported BPF instruction code " << instruction.code);
    }
  }
  BOOST_FAIL("BPF program did not return");
  return 0;
}

inline seccomp_data syscall_data(int nr, std::uint64_t arg0 = 0,
                                 std::uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data data{};
  data.nr = nr;
  data.arch = arch;
  data.args[0] = arg0;
  return data;
}

}  // namespace pgguard::sandbox::test
