#include "doors/resp/cluster_map.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/hash.h"

namespace quorumkv {

std::vector<SlotRange> RedisSlotRanges(const DirectoryView& directory) {
  std::vector<SlotRange> ranges;
  const uint32_t partitions = directory.partitions();
  for (uint32_t p = 0; p < partitions; ++p) {
    SlotRange range;
    range.first = FirstSlotOf(p, partitions);
    range.last = (p + 1 < partitions ? FirstSlotOf(p + 1, partitions)
                                     : kRedisSlots) - 1;
    if (range.last < range.first) continue;  // more partitions than slots
    for (const std::string& id : directory.Replicas(p)) {
      const NodeDescriptor* node = directory.FindNode(id);
      if (node != nullptr && !node->redis_address().empty()) {
        range.nodes.push_back(node);
      }
    }
    if (!ranges.empty() && ranges.back().last + 1 == range.first &&
        ranges.back().nodes == range.nodes) {
      ranges.back().last = range.last;
    } else {
      ranges.push_back(std::move(range));
    }
  }
  return ranges;
}

std::string RedisNodeId(absl::string_view node_id) {
  return absl::StrFormat("%016x%016x%08x", StableHash(node_id),
                         StableHash(absl::StrCat(node_id, "\x01")),
                         static_cast<uint32_t>(
                             StableHash(absl::StrCat(node_id, "\x02"))));
}

std::pair<std::string, int> SplitDoorAddress(absl::string_view address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return {std::string(address), 0};
  }
  absl::string_view host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {std::string(host), port};
}

}  // namespace quorumkv
