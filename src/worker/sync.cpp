#include "worker/sync.hpp"

#include <rapidjson/document.h>

#include "process/spawn.hpp"
#include "util/enum_names.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::worker {
namespace {

constexpr std::pair<ErrorCode, std::string_view> kCodeNames[] = {
    {ErrorCode::kInvalidArgument, "invalid_argument"},
    {ErrorCode::kNotFound, "not_found"},
    {ErrorCode::kAlreadyExists, "already_exists"},
    {ErrorCode::kPermissionDenied, "permission_denied"},
    {ErrorCode::kUnauthenticated, "unauthenticated"},
    {ErrorCode::kUnavailable, "unavailable"},
    {ErrorCode::kTimeout, "timeout"},
    {ErrorCode::kIo, "io"},
    {ErrorCode::kInternal, "internal"},
};

std::string_view CodeName(ErrorCode c) { return NameOf(kCodeNames, c, "internal"); }

ErrorCode CodeFromName(std::string_view n) { return ValueOf(kCodeNames, n).value_or(ErrorCode::kInternal); }

// The last few lines of the child's stderr, for an error that has nothing better.
std::string Tail(std::string_view text, std::size_t max = 600) {
  text = Trim(text);
  if (text.size() > max) text = text.substr(text.size() - max);
  return std::string(text);
}

}  // namespace

std::string FormatSyncLine(const Expected<SyncResult>& result) {
  // Strings as the project's escaper writes them (json::Text), so the line keeps its bytes.
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("ok");
  w.Bool(result.has_value());
  if (result) {
    w.Key("commit");
    json::Text(w, result->commit);
    w.Key("fetched");
    w.Bool(result->fetched);
    w.Key("changed");
    w.Bool(result->changed);
  } else {
    w.Key("error");
    json::Text(w, result.error().What());
    w.Key("code");
    json::Text(w, CodeName(result.error().code));
  }
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

Expected<SyncResult> ParseSyncLine(std::string_view line) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(line.data(), line.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("ok") || !doc["ok"].IsBool()) {
    return Fail(ErrorCode::kInternal, "the sync child answered something that is not its JSON line");
  }
  if (!doc["ok"].GetBool()) {
    std::string msg =
        doc.HasMember("error") && doc["error"].IsString() ? doc["error"].GetString() : "unknown error";
    ErrorCode code = doc.HasMember("code") && doc["code"].IsString() ? CodeFromName(doc["code"].GetString())
                                                                     : ErrorCode::kInternal;
    return Fail(code, std::move(msg));
  }
  if (!doc.HasMember("commit") || !doc["commit"].IsString()) {
    return Fail(ErrorCode::kInternal, "the sync child's answer has no commit");
  }
  SyncResult r;
  r.commit = doc["commit"].GetString();
  r.fetched = doc.HasMember("fetched") && doc["fetched"].IsBool() && doc["fetched"].GetBool();
  r.changed = doc.HasMember("changed") && doc["changed"].IsBool() && doc["changed"].GetBool();
  return r;
}

SyncRequest SyncRequestOf(const config::Config& config) {
  SyncRequest r{config.repo, config.state_dir, config.log.level};
  // What the child's configuration defaulted to when these came through its environment.
  if (r.repo.services_dir.empty()) r.repo.services_dir = "services";
  if (r.repo.secrets_dir.empty()) r.repo.secrets_dir = "secrets";
  return r;
}

std::string EncodeSyncRequest(const SyncRequest& request) {
  const auto& r = request.repo;
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  w.Key("repo");
  w.StartObject();
  json::Str(w, "path", r.path);
  json::Str(w, "url", r.url);
  json::Str(w, "branch", r.branch);
  json::Str(w, "services_dir", r.services_dir);
  json::Str(w, "secrets_dir", r.secrets_dir);
  json::Str(w, "token", r.token);
  json::Str(w, "ssh_key_file", r.ssh_key_file);
  json::Str(w, "known_hosts_file", r.known_hosts_file);
  json::Int(w, "sync_timeout_ms", r.sync_timeout.count());
  w.Key("allow_insecure");
  w.Bool(r.allow_insecure);
  w.EndObject();
  json::Str(w, "state_dir", request.state_dir);
  json::Str(w, "log_level", log::ToString(request.log_level));
  w.EndObject();
  return {buf.GetString(), buf.GetSize()};
}

Expected<SyncRequest> DecodeSyncRequest(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("repo") || !doc["repo"].IsObject())
    return Fail(ErrorCode::kInvalidArgument, "the sync request is not a JSON object with a repo section");
  SyncRequest out;
  const auto& o = doc["repo"];
  auto& r = out.repo;
  r.path = json::GetStr(o, "path");
  r.url = json::GetStr(o, "url");
  r.branch = json::GetStr(o, "branch");
  r.services_dir = json::GetStr(o, "services_dir");
  r.secrets_dir = json::GetStr(o, "secrets_dir");
  r.token = json::GetStr(o, "token");
  r.ssh_key_file = json::GetStr(o, "ssh_key_file");
  r.known_hosts_file = json::GetStr(o, "known_hosts_file");
  r.sync_timeout = std::chrono::milliseconds(json::GetInt(o, "sync_timeout_ms"));
  r.allow_insecure = json::GetBool(o, "allow_insecure");
  out.state_dir = json::GetStr(doc, "state_dir");
  if (!log::ParseLevel(json::GetStr(doc, "log_level"), out.log_level)) out.log_level = log::Level::kInfo;
  return out;
}

Expected<SyncResult> SyncInChild(const config::Config& config, const std::string& podcd_binary) {
  process::Spec spec;
  spec.argv = {podcd_binary, "__sync"};
  // The child reads its configuration from stdin alone; the caller's configuration variables
  // (a token among them) stay out of its environment.
  for (const auto& key : config::DescribeKeys()) {
    for (const auto& name : key.env) spec.env_remove.push_back(name);
  }
  spec.env_remove.push_back("PODCD_CONFIG");
  spec.input = EncodeSyncRequest(SyncRequestOf(config));
  const auto& r = config.repo;
  spec.timeout = r.sync_timeout.count() > 0 ? r.sync_timeout : std::chrono::minutes(2);
  spec.max_output_bytes = std::size_t{256} * 1024;
  spec.block_stop_signals = true;  // __sync unblocks them at once: a stop kills it

  auto child = process::Run(spec);
  if (!child) return std::unexpected(child.error().WithContext("repo sync child"));
  // The child's own log lines (JSON) are passed on at debug level.
  if (log::Enabled(log::Level::kDebug)) {
    std::string_view err = child->err;
    while (!err.empty()) {
      auto nl = err.find('\n');
      auto line = Trim(err.substr(0, nl));
      if (!line.empty()) log::Debug("sync child", {{"line", line}});
      if (nl == std::string_view::npos) break;
      err.remove_prefix(nl + 1);
    }
  }
  if (child->timed_out) {
    return Fail(ErrorCode::kTimeout,
                "repository sync did not finish within " + FormatDuration(spec.timeout) +
                    " (repo.sync_timeout); the sync process was killed",
                r.url.empty() ? r.path : log::RedactUserinfo(r.url));
  }
  if (child->signal == 0 && child->exit_code == process::kExitMemoryLimit) {
    return Fail(ErrorCode::kInternal,
                "the repository sync exceeded the worker's memory limit (worker.memory_max)",
                r.url.empty() ? r.path : log::RedactUserinfo(r.url));
  }
  std::string_view out = Trim(child->out);
  if (auto nl = out.rfind('\n'); nl != std::string_view::npos) out = out.substr(nl + 1);
  if (out.empty()) {
    return Fail(ErrorCode::kInternal,
                "the sync child exited with status " + std::to_string(child->exit_code) +
                    " without an answer: " + Tail(child->err),
                podcd_binary);
  }
  return ParseSyncLine(out);
}

}  // namespace podcd::worker
