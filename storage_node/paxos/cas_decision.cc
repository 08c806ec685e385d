#include "storage_node/paxos/cas_decision.h"

#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/hlc.h"
#include "storage_node/row_registers.h"

namespace quorumkv {

bool ParseCounter(absl::string_view text, int64_t* value) {
  const bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty() || text.size() > 19) return false;
  uint64_t magnitude = 0;
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    magnitude = magnitude * 10 + static_cast<uint64_t>(c - '0');
  }
  const uint64_t limit =
      static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) +
      (negative ? 1 : 0);
  if (magnitude > limit) return false;
  *value = negative ? static_cast<int64_t>(0 - magnitude)
                    : static_cast<int64_t>(magnitude);
  return true;
}

absl::StatusOr<CasDecision> DecideCas(const CasRequest& request,
                                      const VersionedValue* current,
                                      int64_t now_ms) {
  const bool live = current != nullptr && LiveAt(*current, now_ms);
  bool holds = true;
  switch (request.condition_case()) {
    case CasRequest::kIfVersion:
      holds = live &&
              CompareVersions(current->version(), request.if_version()) == 0;
      break;
    case CasRequest::kIfAbsent:
      holds = !live;
      break;
    case CasRequest::kIfValue:
      holds = live && current->value() == request.if_value();
      break;
    case CasRequest::CONDITION_NOT_SET:
      break;
  }
  CasDecision decision;
  if (!holds) return decision;
  decision.applied = true;
  VersionedValue& row = decision.row;
  switch (request.action_case()) {
    case CasRequest::kValue:
      row.set_value(request.value());
      if (request.ttl_ms() > 0) {
        row.set_expires_at_ms(now_ms + static_cast<int64_t>(request.ttl_ms()));
      }
      break;
    case CasRequest::kDelete:
      row.set_tombstone(true);
      break;
    case CasRequest::kIncrement: {
      int64_t base = 0;
      if (live && !ParseCounter(current->value(), &base)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot increment: the value is not a 64-bit integer (",
            current->value().size() > 40
                ? absl::StrCat(current->value().size(), " bytes")
                : absl::StrCat("'", absl::CHexEscape(current->value()), "'"),
            ")"));
      }
      int64_t sum;
      if (__builtin_add_overflow(base, request.increment(), &sum)) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot increment ", base, " by ",
                         request.increment(), ": it would overflow 64 bits"));
      }
      row.set_value(absl::StrCat(sum));
      // A counter keeps its expiry, as Redis' INCR does.
      if (live) row.set_expires_at_ms(current->expires_at_ms());
      break;
    }
    case CasRequest::ACTION_NOT_SET:
      return absl::InvalidArgumentError("conditional write without an action");
  }
  return decision;
}

}  // namespace quorumkv
