#include "doors/door_metrics.h"

#include <string>

namespace quorumkv {

DoorMetrics::DoorMetrics(prometheus::Registry& registry)
    : commands_(prometheus::BuildCounter()
                    .Name("quorumkv_door_commands_total")
                    .Help("Commands answered by the Redis and memcached front "
                          "doors, by door, command and outcome")
                    .Register(registry)),
      connections_(prometheus::BuildGauge()
                       .Name("quorumkv_door_connections")
                       .Help("Open connections of each front door")
                       .Register(registry)) {}

void DoorMetrics::Count(absl::string_view door, absl::string_view command,
                        bool ok) {
  // Family::Add finds the series when it exists (under the family's lock).
  commands_
      .Add({{"door", std::string(door)},
            {"command", std::string(command)},
            {"outcome", ok ? "ok" : "error"}})
      .Increment();
}

void DoorMetrics::Connections(absl::string_view door, int delta) {
  connections_.Add({{"door", std::string(door)}}).Increment(delta);
}

}  // namespace quorumkv
