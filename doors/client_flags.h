// memcached's 32-bit client flags, kept with the value (clients such as
// pymemcache store how they serialized it there). A value stored with flags
// other than 0 carries them in a small envelope in front of its bytes; a
// value with flags 0, and every value written by another door or the SDK,
// is stored as is. Both doors strip the envelope when they read a value, so
// Redis and memcached clients see the same bytes.
#ifndef QUORUMKV_DOORS_CLIENT_FLAGS_H_
#define QUORUMKV_DOORS_CLIENT_FLAGS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace quorumkv {

// The envelope's size: what a value with flags costs against the value
// limit.
inline constexpr size_t kClientFlagsOverhead = 12;

// What to store for `value` with `flags`.
std::string WithClientFlags(uint32_t flags, absl::string_view value);

struct FlaggedValue {
  uint32_t flags = 0;
  absl::string_view value;  // points into the stored bytes
};
// The flags and value of stored bytes (flags 0 and the bytes themselves
// when they carry no envelope).
FlaggedValue SplitClientFlags(absl::string_view stored);

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_CLIENT_FLAGS_H_
