// What the front doors count (docs/operations.md, "Metrics"):
// quorumkv_door_commands_total{door, command, outcome}, outcome "ok" or
// "error" (the client got an error reply), and the open connections per
// door. Thread-safe.
#ifndef QUORUMKV_DOORS_DOOR_METRICS_H_
#define QUORUMKV_DOORS_DOOR_METRICS_H_

#include <atomic>
#include <string>

#include "absl/strings/string_view.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace quorumkv {

class DoorMetrics {
 public:
  // Adds the families to `registry`, which must outlive this.
  explicit DoorMetrics(prometheus::Registry& registry);

  // One command of `door` ("redis", "memcached") answered; `command` in
  // lower case, as the protocol names it.
  void Count(absl::string_view door, absl::string_view command, bool ok);
  // A connection of `door` opened (+1) or closed (-1).
  void Connections(absl::string_view door, int delta);

 private:
  prometheus::Family<prometheus::Counter>& commands_;
  prometheus::Family<prometheus::Gauge>& connections_;
};

}  // namespace quorumkv

#endif  // QUORUMKV_DOORS_DOOR_METRICS_H_
