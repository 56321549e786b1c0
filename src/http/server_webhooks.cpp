// The signed webhook triggers, their duplicates, and the deliveries GET /deliveries lists.
#include "http/server_internal.hpp"
#include "util/log.hpp"
#include "util/strings.hpp"

namespace podcd::http {
namespace {

// A delivery that was answered "ignored" is remembered under this in place of a deployment id.
constexpr std::string_view kIgnoredDelivery = "ignored";

}  // namespace

// Verified first (an HMAC over at most max_body_bytes is cheap): a correctly signed request is
// always processed, so failures from an address shared with the git host cannot lock it out.
// The limiter answers only requests that fail.
bool Server::Impl::SignatureValid(Exchange& x) {
  if (BodyTooLarge(x)) return Delivered(x, 413, "rejected", "body too large"), false;
  if (VerifyTrigger(Credentials().secret, PistacheHeaders(x.req.headers()), x.req.body())) return true;
  const std::string client = ClientOf(x);
  if (RateLimited(x, client))
    return Delivered(x, 429, "rejected", "too many failed signatures from this address"), false;
  Delivered(x, 401, "rejected", "invalid or missing signature");
  limiter.Lock()->RecordFailure(client, Clock::now());
  if (auto left_out = webhook_rejections_logged.Admit(Clock::now())) {
    log::Warn(
        "webhook rejected: invalid or missing signature",
        {{"client", client}, {"path", x.req.resource()}, {"not_logged_before", std::to_string(*left_out)}});
  }
  Reply(x, {HttpStatus(ErrorCode::kUnauthenticated), std::string(kUnauthorizedBody)});
  return false;
}

void Server::Impl::Trigger(Exchange& x, TriggerEndpoint ep) {
  auto parsed = ParseTrigger(ep, PistacheHeaders(x.req.headers()), x.req.body());
  if (!parsed.request) {
    Delivered(x, 400, "rejected", parsed.error);
    return ReplyError(x, {ErrorCode::kInvalidArgument, parsed.error, {}});
  }
  const TriggerRequest& request = *parsed.request;
  using Kind = Classification::Kind;
  if (request.kind == Kind::kPong) {
    Delivered(x, 200, "pong");
    return Reply(x, {200, FlatObject({{"status", "pong"}})});
  }
  // A delivery answered before is a duplicate whatever the path it is replayed to.
  const std::string delivery = DeliveryKey(request.delivery);
  if (auto first = delivery.empty() ? std::nullopt : store.FindDelivery(delivery))
    return ReplyDuplicate(x, *first);
  const std::string& stack = x.param;
  if (ep == TriggerEndpoint::kRedeployAndUpdate) {
    if (!IsValidStackName(stack)) {
      Delivered(x, 400, "rejected", "not a valid stack name");
      return ReplyError(x, {ErrorCode::kInvalidArgument,
                            "not a valid stack name (lowercase letters, digits, '_', '.', '-'; at most 63)",
                            {}});
    }
    if (!catalog.Exists(stack)) {
      Delivered(x, 404, "rejected", "unknown stack");
      return ReplyError(x, {ErrorCode::kNotFound, "unknown stack \"" + stack + "\"", {}});
    }
  }
  std::optional<state::Trigger> t;
  if (request.kind != Kind::kIgnored) {
    t.emplace();
    t->kind = ep == TriggerEndpoint::kDeployAllChanged ? state::TriggerKind::kDeployAllChanged
                                                       : state::TriggerKind::kRedeployAndUpdate;
    t->event = request.event;
    t->delivery_id = request.delivery.substr(0, 200);
    t->actor = t->delivery_id.empty() ? "webhook" : "webhook:" + t->delivery_id;
    t->all_changed = ep == TriggerEndpoint::kDeployAllChanged;
    if (!t->all_changed) {
      t->stacks = {stack};
      t->pull = true;
    }
  }
  bool duplicate = false;
  auto id = EnqueueTrigger(std::move(t), delivery, duplicate);
  if (!id) {
    log::Warn("trigger refused", {{"path", x.req.resource()}, {"error", id.error().What()}});
    Delivered(x, HttpStatus(QueueError(id.error()).code), "rejected", id.error().message);
    return ReplyError(x, QueueError(id.error()));
  }
  if (duplicate) return ReplyDuplicate(x, *id);
  if (request.kind == Kind::kIgnored) {
    Delivered(x, 200, "ignored", request.reason);
    return Reply(x, {200, FlatObject({{"status", "ignored"}, {"reason", request.reason}})});
  }
  Delivered(x, 202, "queued", {}, *id);
  log::Info("trigger accepted", {{"path", x.req.resource()},
                                 {"deployment", *id},
                                 {"event", request.event},
                                 {"delivery", request.delivery}});
  Accepted(x, *id);
}

void Server::Impl::ReplyDuplicate(Exchange& x, const std::string& first) {
  Delivered(x, 200, "duplicate", {}, first == kIgnoredDelivery ? std::string() : first);
  if (first == kIgnoredDelivery) return Reply(x, {200, FlatObject({{"status", "duplicate"}})});
  Reply(x, {200, FlatObject({{"status", "duplicate"}, {"deployment", first}})});
}

Expected<std::string> Server::Impl::EnqueueTrigger(std::optional<state::Trigger> t,
                                                   const std::string& delivery, bool& duplicate) {
  std::lock_guard lock(trigger_mutex);
  if (!delivery.empty()) {
    if (auto first = store.FindDelivery(delivery)) {
      duplicate = true;
      return *first;
    }
  }
  std::string id(kIgnoredDelivery);
  if (t) {
    auto r = queue.Enqueue(std::move(*t));
    if (!r) return std::unexpected(r.error());
    id = r->id;
  }
  if (!delivery.empty()) {
    if (auto rem = store.RememberDelivery(delivery, id); !rem) {
      log::Warn("delivery id not remembered", {{"deployment", id}, {"error", rem.error().What()}});
    }
  }
  return id;
}

void Server::Impl::Delivered(const Exchange& x, int status, std::string_view outcome, std::string reason,
                             std::string deployment) {
  auto first_of = [&](std::initializer_list<const char*> names) {
    for (const char* name : names) {
      if (auto v = HeaderValue(x.req.headers(), name)) return *v;
    }
    return std::string();
  };
  deliveries.Record({state::NowMs(), ClientOf(x), x.req.resource(),
                     first_of({"X-GitHub-Event", "X-Gitea-Event", "X-Gitlab-Event"}),
                     first_of({"X-GitHub-Delivery", "X-Gitea-Delivery", "X-Gitlab-Event-UUID"}), status,
                     std::string(outcome), std::move(reason), std::move(deployment)});
}

void Server::Impl::GetDeliveries(Exchange& x) {
  if (x.html) return Reply(x, dashboard->Deliveries(PageOf(x), deliveries));
  Reply(x, {200, DeliveriesBody(deliveries.Recent(100))});
}

}  // namespace podcd::http
