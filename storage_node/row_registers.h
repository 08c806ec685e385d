// What a row is made of beside its key: two last-writer-wins
// registers, merged independently wherever two copies of a row meet (a
// replica storing a write, a read choosing what to answer and repair,
// anti-entropy, a streamed move).
//
// - The value register: the value or a tombstone, with its version.
// - The expiry register: when the value expires (0: never), with the
//   version of the write that set it. A put or a delete sets both
//   registers at its own version; `expire` and `persist` only the expiry
//   register, so that they never revive an older value nor overwrite a
//   newer one, and a newer put clears an older expiry.
//
// Pure functions over the proto (proto/replica.proto, VersionedValue) and
// the stored header (record.h); tested in tests/row_registers_test.cc.
#ifndef QUORUMKV_STORAGE_NODE_ROW_REGISTERS_H_
#define QUORUMKV_STORAGE_NODE_ROW_REGISTERS_H_

#include <cstdint>

#include "proto/replica.pb.h"
#include "storage_node/record.h"

namespace quorumkv {

// The version of `row`'s expiry register.
const Version& ExpiryVersionOf(const VersionedValue& row);

// An expiry set at `now_ms` or before has passed.
bool ExpiredAt(const VersionedValue& row, int64_t now_ms);
bool ExpiredAt(const RecordHeader& row, int64_t now_ms);
// A value, not a tombstone, that has not expired at `now_ms`: what reads
// return.
bool LiveAt(const VersionedValue& row, int64_t now_ms);
bool LiveAt(const RecordHeader& row, int64_t now_ms);

// Which registers of an incoming copy are newer than those of the held
// one (strictly: equal versions keep what is held).
struct RegisterMerge {
  bool value = false;
  bool expiry = false;
  // The incoming copy changes something.
  bool Changes() const { return value || expiry; }
  // One register comes from each copy: the stored row is a new one made
  // of both (Combine).
  bool Mixes() const { return value != expiry; }
};
RegisterMerge PlanMerge(const VersionedValue& held,
                        const VersionedValue& incoming);
RegisterMerge PlanMerge(const RecordHeader& held,
                        const VersionedValue& incoming);

// A row with the value register of `value_from` and the expiry register of
// `expiry_from`.
VersionedValue Combine(const VersionedValue& value_from,
                       const VersionedValue& expiry_from);

// The row that holds the newer of each register of `a` and `b`.
VersionedValue Merge(const VersionedValue& a, const VersionedValue& b);

// Both registers of `a` and `b` carry the same versions.
bool SameRegisters(const VersionedValue& a, const VersionedValue& b);

// The latest wall time either register was written at: how old the row is
// for the purge (a row is purged only once every replica holds both).
uint64_t NewestWriteMs(const RecordHeader& row);

}  // namespace quorumkv

#endif  // QUORUMKV_STORAGE_NODE_ROW_REGISTERS_H_
