// Client::Scan: one page of a scan, gathered partition by partition from
// KvService.Scan pages (each merged from R replicas by the node that
// serves it), with an opaque cursor that says where to go on.
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "client/client_internal.h"
#include "common/hash.h"
#include "common/hlc.h"
#include "common/kv_validation.h"
#include "common/limits.h"
#include "common/status_macros.h"
#include "quorumkv/client.h"

namespace quorumkv {
namespace {

// A cursor is web-safe base64 of: "qkv1", the partition (4 bytes, big
// endian), a hash of the prefix (8 bytes: a cursor only goes on the scan
// it came from), then the key to resume after.
constexpr absl::string_view kCursorMagic = "qkv1";

struct Position {
  uint32_t partition = 0;
  std::string after;
};

uint64_t PrefixHash(absl::string_view prefix) {
  return StableHash(absl::StrCat("scan-prefix:", prefix));
}

std::string EncodeCursor(const Position& at, absl::string_view prefix) {
  std::string raw(kCursorMagic);
  for (int i = 3; i >= 0; --i) raw.push_back(static_cast<char>(at.partition >> (8 * i)));
  const uint64_t hash = PrefixHash(prefix);
  for (int i = 7; i >= 0; --i) raw.push_back(static_cast<char>(hash >> (8 * i)));
  raw += at.after;
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<Position> DecodeCursor(absl::string_view cursor,
                                      absl::string_view prefix,
                                      uint32_t partitions) {
  std::string raw;
  constexpr size_t kHeader = 4 + 4 + 8;
  if (!absl::WebSafeBase64Unescape(cursor, &raw) || raw.size() < kHeader ||
      !absl::StartsWith(raw, kCursorMagic)) {
    return absl::InvalidArgumentError(
        "cursor is not one a scan returned (pass it as it was printed)");
  }
  Position at;
  for (int i = 0; i < 4; ++i) {
    at.partition = (at.partition << 8) | static_cast<uint8_t>(raw[4 + i]);
  }
  uint64_t hash = 0;
  for (int i = 0; i < 8; ++i) hash = (hash << 8) | static_cast<uint8_t>(raw[8 + i]);
  if (hash != PrefixHash(prefix)) {
    return absl::InvalidArgumentError(
        "cursor comes from a scan of another prefix");
  }
  if (at.partition >= partitions) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cursor names partition ", at.partition, " of a cluster with ",
        partitions, ": it comes from another cluster"));
  }
  at.after = raw.substr(kHeader);
  if (at.after.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError("cursor is not one a scan returned");
  }
  return at;
}

}  // namespace

absl::StatusOr<ScanPage> Client::Scan(const ScanOptions& options) {
  if (options.limit < 1) {
    return absl::InvalidArgumentError("scan limit must be at least 1");
  }
  if (options.prefix.size() > kMaxKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "scan prefix is over the key limit of ", kMaxKeyBytes, " bytes"));
  }
  if (options.request.r < 0) {
    return absl::InvalidArgumentError("R must be 1..N");
  }
  ASSIGN_OR_RETURN(uint32_t replication, ReplicationFactor());
  (void)replication;  // fetched the directory: partitions() is known
  const uint32_t partitions = impl_->routing().Get()->partitions();
  Position at;
  if (!options.cursor.empty()) {
    ASSIGN_OR_RETURN(at, DecodeCursor(options.cursor, options.prefix,
                                      partitions));
  }
  const absl::Duration timeout = options.request.timeout > absl::ZeroDuration()
                                     ? options.request.timeout
                                     : impl_->options().timeout;
  const int r = options.request.r != 0 ? options.request.r : impl_->options().r;
  ScanPage page;
  while (at.partition < partitions && page.items.size() < options.limit) {
    ScanRequest request;
    request.set_partition(at.partition);
    request.set_start_after(at.after);
    request.set_prefix(options.prefix);
    request.set_limit(static_cast<uint32_t>(std::min<size_t>(
        options.limit - page.items.size(), kMaxScanLimit)));
    request.set_keys_only(options.keys_only);
    request.set_r(r);
    absl::Notification answered;
    absl::StatusOr<ScanResponse> response;
    impl_->Submit(std::move(request), absl::Now() + timeout,
                  [&](absl::StatusOr<ScanResponse> r) {
                    response = std::move(r);
                    answered.Notify();
                  });
    answered.WaitForNotification();
    if (!response.ok()) {
      return Prepend(response.status(),
                     absl::StrCat("scan of partition ", at.partition));
    }
    for (ScannedKey& item : *response->mutable_items()) {
      page.items.push_back({std::move(*item.mutable_key()),
                            std::move(*item.mutable_value()),
                            VersionToString(item.version()),
                            item.expires_at_ms()});
    }
    if (response->done()) {
      ++at.partition;
      at.after.clear();
    } else {
      at.after = response->resume_after();
    }
  }
  if (at.partition < partitions) page.cursor = EncodeCursor(at, options.prefix);
  return page;
}

}  // namespace quorumkv
