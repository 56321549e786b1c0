#include "http/stack_controls_api.hpp"

#include "util/json.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::http {
namespace {

constexpr std::size_t kMaxNoteBytes = 500;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded: '+' is a space, %XX a byte; a bad escape is an error.
std::optional<std::string> FormDecoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

Answer Refused(int status, const std::string& why) { return {status, ErrorBody(why)}; }

Answer FileError(const Error& e) {
  log::Error("stack controls: " + e.What());
  return Refused(500, "the stack controls file cannot be used: " + e.message + " (see the daemon's log)");
}

}  // namespace

Expected<ControlBody> ParseControlBody(std::string_view body, std::string_view content_type) {
  ControlBody out;
  if (Trim(body).empty()) return out;
  if (content_type.starts_with("application/x-www-form-urlencoded")) {
    std::size_t start = 0;
    while (start <= body.size()) {
      std::size_t end = body.find('&', start);
      if (end == std::string_view::npos) end = body.size();
      const std::string_view pair = body.substr(start, end - start);
      start = end + 1;
      const std::size_t eq = pair.find('=');
      const std::string_view key = pair.substr(0, eq);
      auto value = FormDecoded(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      if (!value) return Fail(ErrorCode::kInvalidArgument, "the form body has a bad %-escape");
      if (key == "deployment") out.deployment = *value;
      if (key == "note") out.note = *value;
    }
  } else {
    rapidjson::Document doc;
    doc.Parse(body.data(), body.size());
    if (doc.HasParseError() || !doc.IsObject())
      return Fail(ErrorCode::kInvalidArgument, "the body must be a JSON object or a form");
    for (const char* key : {"deployment", "note"}) {
      auto it = doc.FindMember(key);
      if (it != doc.MemberEnd() && !it->value.IsString())
        return Fail(ErrorCode::kInvalidArgument, std::string("field \"") + key + "\" must be a string");
    }
    out.deployment = json::GetStr(doc, "deployment");
    out.note = json::GetStr(doc, "note");
  }
  if (out.note.size() > kMaxNoteBytes)
    return Fail(ErrorCode::kInvalidArgument,
                "the note is longer than " + std::to_string(kMaxNoteBytes) + " bytes");
  return out;
}

Expected<std::string> PinnableCommit(const state::Deployment& d, const std::string& stack) {
  if (d.state != state::DeploymentState::kSucceeded)
    return Fail(ErrorCode::kInvalidArgument,
                "deployment " + d.id + " is " + std::string(state::ToString(d.state)) + ", not succeeded");
  const state::StackOutcome* outcome = nullptr;
  for (const auto& o : d.stacks) {
    if (o.name == stack) outcome = &o;
  }
  if (outcome == nullptr || (outcome->outcome != "updated" && outcome->outcome != "unchanged"))
    return Fail(ErrorCode::kInvalidArgument,
                "deployment " + d.id + " did not deploy stack " + stack +
                    (outcome == nullptr ? "" : " (its outcome there: " + outcome->outcome + ")"));
  // A stack deployed while pinned ran at its pinned commit, which its outcome names.
  std::string commit = d.commit;
  constexpr std::string_view kPinned = "pinned to commit ";
  if (outcome->reason.starts_with(kPinned)) commit = outcome->reason.substr(kPinned.size(), 40);
  if (commit.size() != 40 || commit.find_first_not_of("0123456789abcdef") != std::string::npos)
    return Fail(ErrorCode::kInvalidArgument, "deployment " + d.id + " records no commit");
  return commit;
}

void ApplyControls(std::vector<StackInfo>& stacks, const state::StackControls& controls) {
  for (auto& s : stacks) {
    auto c = controls.find(s.name);
    if (c == controls.end()) continue;
    s.suspended = c->second.suspended;
    s.pinned = c->second.pinned;
    s.state = s.suspended ? "suspended" : "pinned";
  }
}

StackControlsApi::StackControlsApi(std::string file, state::Store& store, reconcile::WorkQueue& queue,
                                   StackCatalog& catalog)
    : store_(store), queue_(queue), catalog_(catalog) {
  if (!file.empty()) file_.emplace(std::move(file));
}

std::optional<Answer> StackControlsApi::CheckStack(const std::string& stack, bool must_exist) {
  if (!file_) return Refused(503, "stack controls need a state directory");
  if (!IsValidStackName(stack))
    return Refused(400, "not a valid stack name (lowercase letters, digits, '_', '.', '-'; at most 63)");
  if (!must_exist) {
    // A stack gone from the repository can still be resumed or unpinned.
    auto all = file_->Read();
    if (!all) return FileError(all.error());
    if (all->contains(stack)) return std::nullopt;
  }
  if (!catalog_.Exists(stack)) return Refused(404, "unknown stack \"" + stack + "\"");
  return std::nullopt;
}

Answer StackControlsApi::Suspend(const std::string& stack, std::string_view body,
                                 std::string_view content_type, const std::string& actor) {
  if (auto refused = CheckStack(stack, true)) return *refused;
  auto parsed = ParseControlBody(body, content_type);
  if (!parsed) return Refused(400, parsed.error().message);
  auto c = file_->Update(stack, [&](state::StackControl& control) -> Expected<void> {
    // Suspending a suspended stack keeps who did it first and when.
    if (!control.suspended) control.suspended = state::Suspension{actor, state::NowMs(), parsed->note};
    return {};
  });
  if (!c) return FileError(c.error());
  log::Warn("stack suspended: every reconcile leaves it alone until it is resumed",
            {{"stack", stack}, {"by", c->suspended->by}, {"note", c->suspended->note}});
  return {200, state::StackControlJson(stack, *c)};
}

Answer StackControlsApi::Resume(const std::string& stack, const std::string& actor) {
  if (auto refused = CheckStack(stack, false)) return *refused;
  bool was = false;
  auto c = file_->Update(stack, [&](state::StackControl& control) -> Expected<void> {
    was = control.suspended.has_value();
    control.suspended.reset();
    return {};
  });
  if (!c) return FileError(c.error());
  if (was) log::Info("stack resumed", {{"stack", stack}, {"by", actor}});
  return {200, state::StackControlJson(stack, *c)};
}

Answer StackControlsApi::Deploy(const std::string& stack, const state::StackControl& control,
                                const std::string& why, const std::string& actor) {
  if (control.suspended) return {200, state::StackControlJson(stack, control)};  // deployed on resume
  state::Trigger t;
  t.kind = state::TriggerKind::kDeploy;
  t.stacks = {stack};
  t.actor = actor;
  auto r = queue_.Enqueue(std::move(t));
  if (!r) {
    const int status = r.error().code == ErrorCode::kUnavailable ? 503 : HttpStatus(r.error().code);
    return Refused(status, "the control is set but no deployment was queued: " + r.error().message);
  }
  log::Info(why, {{"stack", stack}, {"deployment", r->id}});
  rapidjson::StringBuffer buf;
  json::Writer w(buf);
  w.StartObject();
  json::Str(w, "deployment", r->id);
  json::Str(w, "status", "queued");
  w.Key("control");
  const std::string inner = state::StackControlJson(stack, control);
  w.RawValue(inner.data(), inner.size(), rapidjson::kObjectType);
  w.EndObject();
  return {202, std::string(buf.GetString(), buf.GetSize())};
}

Answer StackControlsApi::Pin(const std::string& stack, std::string_view body, std::string_view content_type,
                             const std::string& actor) {
  if (auto refused = CheckStack(stack, true)) return *refused;
  auto parsed = ParseControlBody(body, content_type);
  if (!parsed) return Refused(400, parsed.error().message);
  if (parsed->deployment.empty())
    return Refused(400, "field \"deployment\" is required: the deployment to pin to");
  auto d = store_.Get(parsed->deployment);
  if (!d)
    return Refused(422,
                   "no deployment " + json::Quoted(parsed->deployment.substr(0, 80)) + " in the history");
  auto commit = PinnableCommit(*d, stack);
  if (!commit) return Refused(422, "cannot pin " + stack + ": " + commit.error().message);
  auto c = file_->Update(stack, [&](state::StackControl& control) -> Expected<void> {
    control.pinned = state::Pin{d->id, *commit, actor, state::NowMs()};
    return {};
  });
  if (!c) return FileError(c.error());
  return Deploy(stack, *c, "stack pinned: deploying it from the pinned commit", actor);
}

Answer StackControlsApi::Unpin(const std::string& stack, const std::string& actor) {
  if (auto refused = CheckStack(stack, false)) return *refused;
  bool was = false;
  auto c = file_->Update(stack, [&](state::StackControl& control) -> Expected<void> {
    was = control.pinned.has_value();
    control.pinned.reset();
    return {};
  });
  if (!c) return FileError(c.error());
  if (!was) return {200, state::StackControlJson(stack, *c)};
  return Deploy(stack, *c, "stack unpinned by " + actor + ": deploying it from the branch head", actor);
}

}  // namespace podcd::http
