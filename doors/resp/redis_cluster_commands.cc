// CLUSTER INFO, MYID, NODES, SLOTS, SHARDS and KEYSLOT: the directory as
// Redis Cluster describes itself (doors/resp/cluster_map.h), so that
// cluster-aware clients route keys to their replicas. A cluster created
// with --key_hash=xxh3 does not agree with Redis's slots: its doors answer
// as a Redis without cluster support, and serve every key all the same.
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/hash.h"
#include "doors/resp/cluster_map.h"
#include "doors/resp/redis_handlers.h"
#include "doors/resp/redis_session.h"

namespace quorumkv {
namespace {

std::string NodeEntry(const NodeDescriptor& node) {
  auto [host, port] = SplitDoorAddress(node.redis_address());
  std::string entry = RespReply::ArrayHeader(4);
  entry += RespReply::Bulk(host);
  entry += RespReply::Integer(port);
  entry += RespReply::Bulk(RedisNodeId(node.id()));
  entry += RespReply::ArrayHeader(0);  // Redis 7's extra metadata: none
  return entry;
}

std::string Slots(const std::vector<SlotRange>& ranges) {
  std::string reply;
  size_t served = 0;
  for (const SlotRange& range : ranges) {
    if (range.nodes.empty()) continue;
    ++served;
    reply += RespReply::ArrayHeader(2 + range.nodes.size());
    reply += RespReply::Integer(range.first);
    reply += RespReply::Integer(range.last);
    for (const NodeDescriptor* node : range.nodes) reply += NodeEntry(*node);
  }
  return RespReply::ArrayHeader(served) + reply;
}

// Nodes that serve RESP, in directory order.
std::vector<const NodeDescriptor*> DoorNodes(const DirectoryView& directory) {
  std::vector<const NodeDescriptor*> nodes;
  for (const NodeDescriptor& node : directory.proto().nodes()) {
    if (!node.redis_address().empty() && !directory.IsRemoved(node.id())) {
      nodes.push_back(&node);
    }
  }
  return nodes;
}

std::string Nodes(const DirectoryView& directory,
                  const std::vector<SlotRange>& ranges,
                  const std::string& self_id) {
  std::string text;
  for (const NodeDescriptor* node : DoorNodes(directory)) {
    auto [host, port] = SplitDoorAddress(node->redis_address());
    // Every node is a "master" of the ranges it coordinates first; Redis
    // Cluster's one-master-per-range shape has no word for a node that
    // is a replica of some ranges and first of others.
    std::vector<std::string> owned;
    for (const SlotRange& range : ranges) {
      if (range.nodes.empty() || range.nodes.front() != node) continue;
      owned.push_back(range.first == range.last
                          ? absl::StrCat(range.first)
                          : absl::StrCat(range.first, "-", range.last));
    }
    absl::StrAppend(&text, RedisNodeId(node->id()), " ", host, ":", port, "@",
                    port + 10000, " ",
                    node->id() == self_id ? "myself,master" : "master",
                    " - 0 0 ", directory.epoch(), " connected",
                    owned.empty() ? "" : " ", absl::StrJoin(owned, " "), "\n");
  }
  return text;
}

std::string Shards(const RespReply& out, const std::vector<SlotRange>& ranges) {
  // One shard per distinct replica list.
  std::vector<std::pair<std::vector<const NodeDescriptor*>, std::vector<int64_t>>>
      shards;
  for (const SlotRange& range : ranges) {
    if (range.nodes.empty()) continue;
    auto shard = std::find_if(shards.begin(), shards.end(), [&](const auto& s) {
      return s.first == range.nodes;
    });
    if (shard == shards.end()) {
      shards.emplace_back(range.nodes, std::vector<int64_t>{});
      shard = shards.end() - 1;
    }
    shard->second.push_back(range.first);
    shard->second.push_back(range.last);
  }
  std::string reply = RespReply::ArrayHeader(shards.size());
  for (const auto& [nodes, slots] : shards) {
    reply += out.MapHeader(2);
    reply += RespReply::Bulk("slots") + RespReply::ArrayHeader(slots.size());
    for (int64_t slot : slots) reply += RespReply::Integer(slot);
    reply += RespReply::Bulk("nodes") + RespReply::ArrayHeader(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      auto [host, port] = SplitDoorAddress(nodes[i]->redis_address());
      reply += out.MapHeader(7);
      reply += RespReply::Bulk("id") + RespReply::Bulk(RedisNodeId(nodes[i]->id()));
      reply += RespReply::Bulk("port") + RespReply::Integer(port);
      reply += RespReply::Bulk("ip") + RespReply::Bulk(host);
      reply += RespReply::Bulk("endpoint") + RespReply::Bulk(host);
      reply += RespReply::Bulk("role") + RespReply::Bulk(i == 0 ? "master" : "replica");
      reply += RespReply::Bulk("replication-offset") + RespReply::Integer(0);
      reply += RespReply::Bulk("health") + RespReply::Bulk("online");
    }
  }
  return reply;
}

}  // namespace

void RedisCluster(RedisCall call) {
  const std::string sub = absl::AsciiStrToUpper(call.args[1]);
  const DirectoryPtr directory = call.context->gateway->directory();
  if (sub == "KEYSLOT") {
    if (call.args.size() != 3) {
      return call.reply(RespReply::Error(
          "ERR wrong number of arguments for 'cluster|keyslot' command"));
    }
    return call.reply(RespReply::Integer(RedisSlot(call.args[2])));
  }
  if (directory->proto().key_hash() != KEY_HASH_REDIS_SLOTS) {
    return call.reply(
        RespReply::Error("ERR This instance has cluster support disabled"));
  }
  if (!directory->formed()) {
    return call.reply(
        RespReply::Error("CLUSTERDOWN The cluster is not formed yet"));
  }
  const std::string& self_id = call.context->gateway->self_id();
  const std::vector<SlotRange> ranges = RedisSlotRanges(*directory);
  if (sub == "MYID" && call.args.size() == 2) {
    return call.reply(RespReply::Bulk(RedisNodeId(self_id)));
  }
  if (sub == "SLOTS" && call.args.size() == 2) return call.reply(Slots(ranges));
  if (sub == "SHARDS" && call.args.size() == 2) {
    return call.reply(Shards(call.out, ranges));
  }
  if (sub == "NODES" && call.args.size() == 2) {
    return call.reply(RespReply::Bulk(Nodes(*directory, ranges, self_id)));
  }
  if (sub == "INFO" && call.args.size() == 2) {
    uint32_t assigned = 0;
    for (const SlotRange& range : ranges) {
      if (!range.nodes.empty()) assigned += range.last - range.first + 1;
    }
    size_t masters = 0;
    for (const NodeDescriptor* node : DoorNodes(*directory)) {
      for (const SlotRange& range : ranges) {
        if (!range.nodes.empty() && range.nodes.front() == node) {
          ++masters;
          break;
        }
      }
    }
    return call.reply(RespReply::Bulk(absl::StrCat(
        "cluster_state:", assigned == kRedisSlots ? "ok" : "fail", "\r\n",
        "cluster_slots_assigned:", assigned, "\r\n",
        "cluster_slots_ok:", assigned, "\r\n",
        "cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\n",
        "cluster_known_nodes:", DoorNodes(*directory).size(), "\r\n",
        "cluster_size:", masters, "\r\n",
        "cluster_current_epoch:", directory->epoch(), "\r\n",
        "cluster_my_epoch:", directory->epoch(), "\r\n")));
  }
  call.reply(RespReply::Error(absl::StrCat(
      "ERR unknown subcommand '", call.args[1], "'. Try CLUSTER HELP.")));
}

}  // namespace quorumkv
