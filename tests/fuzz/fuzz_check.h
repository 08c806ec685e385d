// What a fuzz target asserts: a failed check aborts, which libFuzzer
// reports as a crash with the input that caused it.
#ifndef QUORUMKV_TESTS_FUZZ_FUZZ_CHECK_H_
#define QUORUMKV_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdlib>

namespace quorumkv {

inline void FuzzCheck(bool condition) {
  if (!condition) std::abort();
}

}  // namespace quorumkv

#endif  // QUORUMKV_TESTS_FUZZ_FUZZ_CHECK_H_
