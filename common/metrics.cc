#include "common/metrics.h"

#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace quorumkv {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {}

void Metrics::AddSource(std::string name, std::string help,
                        prometheus::MetricType type,
                        std::function<std::vector<MetricSample>()> read) {
  sources_.push_back(
      Source{std::move(name), std::move(help), type, std::move(read)});
}

void Metrics::AddValue(std::string name, std::string help,
                       prometheus::MetricType type,
                       std::function<double()> read) {
  AddSource(std::move(name), std::move(help), type,
            [read = std::move(read)] {
              return std::vector<MetricSample>{MetricSample{{}, read()}};
            });
}

std::string Metrics::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (const Source& source : sources_) {
    prometheus::MetricFamily family;
    family.name = source.name;
    family.help = source.help;
    family.type = source.type;
    for (MetricSample& sample : source.read()) {
      prometheus::ClientMetric metric;
      for (auto& [name, value] : sample.labels) {
        metric.label.push_back({name, value});
      }
      if (source.type == prometheus::MetricType::Counter) {
        metric.counter.value = sample.value;
      } else {
        metric.gauge.value = sample.value;
      }
      family.metric.push_back(std::move(metric));
    }
    families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace quorumkv
