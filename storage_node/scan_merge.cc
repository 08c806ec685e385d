#include "storage_node/scan_merge.h"

#include <map>
#include <optional>
#include <string>

#include "storage_node/row_registers.h"

namespace quorumkv {

ScanResponse MergeScanPages(const std::vector<RangeResponse>& pages,
                            uint32_t limit, int64_t now_ms) {
  // The last key every replica vouches for; none while none stopped early.
  std::optional<std::string> end;
  for (const RangeResponse& page : pages) {
    if (!page.truncated() || page.rows_size() == 0) continue;
    const std::string& last = page.rows(page.rows_size() - 1).key();
    if (!end || last < *end) end = last;
  }
  std::map<std::string, VersionedValue> merged;
  for (const RangeResponse& page : pages) {
    for (const StreamedRow& row : page.rows()) {
      if (end && row.key() > *end) break;
      auto [it, inserted] = merged.try_emplace(row.key(), row.value());
      if (!inserted) it->second = Merge(it->second, row.value());
    }
  }
  ScanResponse response;
  for (auto& [key, row] : merged) {
    if (!LiveAt(row, now_ms)) continue;
    if (static_cast<uint32_t>(response.items_size()) == limit) {
      // More live keys than the page holds: resume after the last kept.
      response.set_resume_after(
          response.items(response.items_size() - 1).key());
      return response;
    }
    ScannedKey* item = response.add_items();
    item->set_key(key);
    item->set_value(std::move(*row.mutable_value()));
    *item->mutable_version() = row.version();
    item->set_expires_at_ms(row.expires_at_ms());
  }
  if (end) {
    response.set_resume_after(*end);
  } else {
    response.set_done(true);
  }
  return response;
}

}  // namespace quorumkv
