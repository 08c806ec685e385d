#include "storage_node/row_registers.h"

#include <algorithm>

#include "common/hlc.h"

namespace quorumkv {

const Version& ExpiryVersionOf(const VersionedValue& row) {
  return row.has_expiry_version() ? row.expiry_version() : row.version();
}

bool ExpiredAt(const VersionedValue& row, int64_t now_ms) {
  return row.expires_at_ms() != 0 && row.expires_at_ms() <= now_ms;
}

bool ExpiredAt(const RecordHeader& row, int64_t now_ms) {
  return row.expires_at_ms != 0 && row.expires_at_ms <= now_ms;
}

bool LiveAt(const VersionedValue& row, int64_t now_ms) {
  return !row.tombstone() && !ExpiredAt(row, now_ms);
}

bool LiveAt(const RecordHeader& row, int64_t now_ms) {
  return !row.tombstone && !ExpiredAt(row, now_ms);
}

RegisterMerge PlanMerge(const VersionedValue& held,
                        const VersionedValue& incoming) {
  RegisterMerge merge;
  merge.value = VersionLess(held.version(), incoming.version());
  merge.expiry = VersionLess(ExpiryVersionOf(held), ExpiryVersionOf(incoming));
  return merge;
}

RegisterMerge PlanMerge(const RecordHeader& held,
                        const VersionedValue& incoming) {
  RegisterMerge merge;
  merge.value = CompareToStored(incoming.version(), held) > 0;
  merge.expiry = CompareToStoredExpiry(ExpiryVersionOf(incoming), held) > 0;
  return merge;
}

VersionedValue Combine(const VersionedValue& value_from,
                       const VersionedValue& expiry_from) {
  VersionedValue row;
  *row.mutable_version() = value_from.version();
  row.set_tombstone(value_from.tombstone());
  row.set_value(value_from.value());
  *row.mutable_expiry_version() = ExpiryVersionOf(expiry_from);
  row.set_expires_at_ms(expiry_from.expires_at_ms());
  return row;
}

VersionedValue Merge(const VersionedValue& a, const VersionedValue& b) {
  const RegisterMerge take_b = PlanMerge(a, b);
  if (!take_b.Changes()) return a;
  if (!take_b.Mixes()) return b;
  return take_b.value ? Combine(b, a) : Combine(a, b);
}

bool SameRegisters(const VersionedValue& a, const VersionedValue& b) {
  return CompareVersions(a.version(), b.version()) == 0 &&
         CompareVersions(ExpiryVersionOf(a), ExpiryVersionOf(b)) == 0;
}

uint64_t NewestWriteMs(const RecordHeader& row) {
  return std::max(row.wall_ms, row.expiry_wall_ms);
}

}  // namespace quorumkv
