#include "reconcile/handover.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "util/json.hpp"
#include "util/strings.hpp"

namespace podcd::reconcile {
namespace {

using json::GetInt;
using json::Str;
using json::Writer;

}  // namespace

std::filesystem::path HandOverPath(const std::filesystem::path& state_dir) {
  return state_dir / "handover.json";
}

std::filesystem::path HandOverResultPath(const std::filesystem::path& state_dir) {
  return state_dir / "handover-result.json";
}

Expected<void> WriteHandOver(const std::filesystem::path& state_dir, const HandOver& h) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Str(w, "deployment", h.deployment);
  Str(w, "stack", h.stack);
  Str(w, "commit", h.commit);
  Str(w, "updater", h.updater);
  Str(w, "container", h.container);
  Str(w, "earlier_failures", h.earlier_failures);
  json::Int(w, "started_at_ms", h.started_at_ms);
  Str(w, "service", h.service);
  w.EndObject();
  return WriteFileAtomic(HandOverPath(state_dir), std::string(buf.GetString(), buf.GetSize()) + "\n");
}

Expected<std::optional<HandOver>> ReadHandOver(const std::filesystem::path& state_dir) {
  auto doc = json::ReadObjectFile(HandOverPath(state_dir));
  if (!doc) return std::unexpected(doc.error());
  if (!*doc) return std::optional<HandOver>();
  const auto& d = **doc;
  HandOver h{json::GetStr(d, "deployment"), json::GetStr(d, "stack"),     json::GetStr(d, "commit"),
             json::GetStr(d, "updater"),    json::GetStr(d, "container"), json::GetStr(d, "earlier_failures"),
             GetInt(d, "started_at_ms"),    json::GetStr(d, "service")};
  if (h.deployment.empty() || h.stack.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "deployment or stack missing", HandOverPath(state_dir).string());
  }
  return std::optional<HandOver>(std::move(h));
}

Expected<void> WriteHandOverResult(const std::filesystem::path& state_dir, const HandOverResult& r) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  Str(w, "deployment", r.deployment);
  w.Key("ok");
  w.Bool(r.ok);
  Str(w, "outcome", r.outcome);
  Str(w, "reason", r.reason);
  json::Int(w, "duration_ms", r.duration_ms);
  Str(w, "stack_key", r.stack_key);
  w.Key("log");
  w.StartArray();
  for (const auto& l : r.log) w.String(l.data(), static_cast<rapidjson::SizeType>(l.size()));
  w.EndArray();
  w.EndObject();
  return WriteFileAtomic(HandOverResultPath(state_dir), std::string(buf.GetString(), buf.GetSize()) + "\n");
}

Expected<std::optional<HandOverResult>> ReadHandOverResult(const std::filesystem::path& state_dir) {
  auto doc = json::ReadObjectFile(HandOverResultPath(state_dir));
  if (!doc) return std::unexpected(doc.error());
  if (!*doc) return std::optional<HandOverResult>();
  const auto& d = **doc;
  HandOverResult r;
  r.deployment = json::GetStr(d, "deployment");
  auto ok = d.FindMember("ok");
  r.ok = ok != d.MemberEnd() && ok->value.IsBool() && ok->value.GetBool();
  r.outcome = json::GetStr(d, "outcome");
  r.reason = json::GetStr(d, "reason");
  r.duration_ms = GetInt(d, "duration_ms");
  r.stack_key = json::GetStr(d, "stack_key");
  if (auto log = d.FindMember("log"); log != d.MemberEnd() && log->value.IsArray()) {
    for (const auto& l : log->value.GetArray()) {
      if (l.IsString()) r.log.emplace_back(l.GetString(), l.GetStringLength());
    }
  }
  if (r.deployment.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "deployment missing", HandOverResultPath(state_dir).string());
  }
  return std::optional<HandOverResult>(std::move(r));
}

std::filesystem::path UpdaterRunsPath(const std::filesystem::path& state_dir) {
  return state_dir / "handover-runs";
}

int UpdaterRuns(const std::filesystem::path& state_dir, const std::string& deployment) {
  // One line: "<deployment> <runs>".
  auto text = ReadFile(UpdaterRunsPath(state_dir), 4096);
  if (!text) return 0;
  const std::string_view line = Trim(*text);
  const auto sp = line.find(' ');
  if (sp == std::string_view::npos || line.substr(0, sp) != deployment) return 0;
  int runs = 0;
  for (char c : line.substr(sp + 1)) {
    if (c < '0' || c > '9' || runs > 1000) return 0;
    runs = runs * 10 + (c - '0');
  }
  return runs;
}

Expected<int> RecordUpdaterRun(const std::filesystem::path& state_dir, const std::string& deployment) {
  const int before = UpdaterRuns(state_dir, deployment);
  if (auto r =
          WriteFileAtomic(UpdaterRunsPath(state_dir), deployment + " " + std::to_string(before + 1) + "\n");
      !r) {
    return std::unexpected(r.error());
  }
  return before;
}

void ClearHandOver(const std::filesystem::path& state_dir) {
  std::error_code ec;
  std::filesystem::remove(HandOverResultPath(state_dir), ec);
  std::filesystem::remove(HandOverPath(state_dir), ec);
  std::filesystem::remove(UpdaterRunsPath(state_dir), ec);
}

}  // namespace podcd::reconcile
