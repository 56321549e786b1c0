// A small process-wide metrics registry rendered in Prometheus text format: counters and
// summaries (sum + count) keyed by name and labels, plus gauges read at scrape time.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace podcd::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

void Describe(std::string_view name, std::string_view type, std::string_view help);
void Add(std::string_view name, const Labels& labels = {}, double value = 1);  // counter
void Observe(std::string_view name, const Labels& labels, double value);       // summary
void Set(std::string_view name, const Labels& labels, double value);           // gauge
// A gauge family computed at each scrape (e.g. queue depth, stacks by state).
void SetCollector(std::string_view name, std::function<std::vector<std::pair<Labels, double>>()> collect);

// Everything in Prometheus text exposition format 0.0.4.
// A worker process (`podcd __run`) forwards what it counts to the daemon, which renders it:
// with a forwarder set, Add/Observe/Set call it instead of counting here. Set it once, before
// the process starts any thread.
enum class Kind { kAdd, kObserve, kSet };
using Forwarder = std::function<void(Kind, std::string_view name, const Labels& labels, double value)>;
void SetForwarder(Forwarder forwarder);
// Add, Observe or Set by kind (the daemon, applying what a worker forwarded).
void Record(Kind kind, std::string_view name, const Labels& labels, double value);

// The value a counter or gauge holds now (not a collector's); nullopt when it has none.
std::optional<double> Value(std::string_view name, const Labels& labels = {});

std::string Render();
void ResetForTest();

// Process resident set size in bytes (/proc/self/statm).
double ProcessRssBytes();

}  // namespace podcd::metrics
