#include "util/metrics.hpp"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "util/guarded.hpp"

namespace podcd::metrics {
namespace {

struct Family {
  std::string type = "untyped";
  std::string help;
  std::map<Labels, double> values;                      // counters and gauges
  std::map<Labels, std::pair<double, double>> summary;  // sum, count
  std::function<std::vector<std::pair<Labels, double>>()> collect;
};

Guarded<std::map<std::string, Family, std::less<>>>& Registry() {
  static Guarded<std::map<std::string, Family, std::less<>>> r;
  return r;
}

std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string LabelText(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    out += (i ? "," : "") + labels[i].first + "=\"" + Escape(labels[i].second) + "\"";
  }
  return out + "}";
}

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void Describe(std::string_view name, std::string_view type, std::string_view help) {
  auto r = Registry().Lock();
  auto& f = (*r)[std::string(name)];
  f.type = std::string(type);
  f.help = std::string(help);
}

namespace {
// Set in a worker process, whose counts belong to the daemon, before it starts any thread;
// read without a lock on every count (the daemon, which never sets it, pays one test).
Forwarder forwarder;

bool Forwarded(Kind kind, std::string_view name, const Labels& labels, double value) {
  if (!forwarder) return false;
  forwarder(kind, name, labels, value);
  return true;
}
}  // namespace

void SetForwarder(Forwarder f) { forwarder = std::move(f); }

void Record(Kind kind, std::string_view name, const Labels& labels, double value) {
  switch (kind) {
    case Kind::kAdd: return Add(name, labels, value);
    case Kind::kObserve: return Observe(name, labels, value);
    case Kind::kSet: return Set(name, labels, value);
  }
}

void Add(std::string_view name, const Labels& labels, double value) {
  if (Forwarded(Kind::kAdd, name, labels, value)) return;
  auto r = Registry().Lock();
  (*r)[std::string(name)].values[labels] += value;
}

void Observe(std::string_view name, const Labels& labels, double value) {
  if (Forwarded(Kind::kObserve, name, labels, value)) return;
  auto r = Registry().Lock();
  auto& s = (*r)[std::string(name)].summary[labels];
  s.first += value;
  s.second += 1;
}

void Set(std::string_view name, const Labels& labels, double value) {
  if (Forwarded(Kind::kSet, name, labels, value)) return;
  auto r = Registry().Lock();
  (*r)[std::string(name)].values[labels] = value;
}

std::optional<double> Value(std::string_view name, const Labels& labels) {
  auto r = Registry().Lock();
  auto family = r->find(name);
  if (family == r->end()) return std::nullopt;
  auto it = family->second.values.find(labels);
  if (it == family->second.values.end()) return std::nullopt;
  return it->second;
}

void SetCollector(std::string_view name, std::function<std::vector<std::pair<Labels, double>>()> collect) {
  auto r = Registry().Lock();
  (*r)[std::string(name)].collect = std::move(collect);
}

std::string Render() {
  // Collectors may take time (they may ask Podman): run them outside the lock.
  std::vector<std::pair<std::string, std::function<std::vector<std::pair<Labels, double>>()>>> collectors;
  {
    auto r = Registry().Lock();
    for (const auto& [name, f] : *r) {
      if (f.collect) collectors.emplace_back(name, f.collect);
    }
  }
  std::map<std::string, std::vector<std::pair<Labels, double>>> collected;
  for (const auto& [name, fn] : collectors) collected[name] = fn();

  std::string out;
  auto r = Registry().Lock();
  for (const auto& [name, f] : *r) {
    if (!f.help.empty()) out += "# HELP " + name + " " + f.help + "\n";
    out += "# TYPE " + name + " " + f.type + "\n";
    for (const auto& [labels, v] : f.values) out += name + LabelText(labels) + " " + Number(v) + "\n";
    for (const auto& [labels, s] : f.summary) {
      out += name + "_sum" + LabelText(labels) + " " + Number(s.first) + "\n";
      out += name + "_count" + LabelText(labels) + " " + Number(s.second) + "\n";
    }
    if (auto it = collected.find(name); it != collected.end()) {
      for (const auto& [labels, v] : it->second) out += name + LabelText(labels) + " " + Number(v) + "\n";
    }
  }
  return out;
}

void ResetForTest() { Registry().Lock()->clear(); }

double ProcessRssBytes() {
  std::ifstream in("/proc/self/statm");
  long size = 0;
  long resident = 0;
  in >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

}  // namespace podcd::metrics
