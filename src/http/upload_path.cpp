// POST /upload, read off Pistache (docs/architecture.md, "Uploads"). Pistache 0.0.5 holds a
// whole request in memory before its handler runs, so a request whose line is `POST
// <base>/upload` never reaches its parser: from that connection's first read on, its bytes go
// through a RequestReader and a MultipartReader straight into a file in the state directory.
// The answer is written on the connection here too, and the connection ends after it. Every
// other request is Pistache's as before.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "auth/random.hpp"
#include "http/multipart.hpp"
#include "http/request_reader.hpp"
#include "http/server_internal.hpp"
#include "http/upload_status.hpp"
#include "http/wire.hpp"
#include "state/uploads.hpp"
#include "util/json.hpp"
#include "util/json_text.hpp"
#include "util/log.hpp"
#include "util/metrics.hpp"
#include "util/strings.hpp"

namespace podcd::http {
namespace {

const std::string kUploadKey = "podcd.upload";
constexpr std::string_view kRoute = "/upload";
constexpr std::size_t kMaxProjectBytes = 64;
constexpr int kMaxOpenUploads = 4;
constexpr std::size_t kWriteBytes = 256 << 10;
constexpr std::size_t kReadBytes = 64 << 10;

class HeadHeaders final : public RequestHeaders {
 public:
  explicit HeadHeaders(const RequestHead& head) : head_(head) {}
  std::optional<std::string> Get(std::string_view name) const override { return head_.Get(name); }

 private:
  const RequestHead& head_;
};

struct Refusal {
  int status;
  std::string message;
};

// One upload connection's state, kept in the Pistache peer's data. The reactor thread feeds it;
// the load runs on the server's upload thread, which answers.
class Upload final : public PartSink {
 public:
  enum class Phase { kHead, kBody, kLoading, kAnswered };

  Upload(std::size_t max_head, std::uint64_t max_bytes, std::atomic<int>& open)
      : reader(max_head), max_bytes_(max_bytes), open_(open) {
    ++open_;
  }
  ~Upload() override {
    Discard();
    --open_;
  }
  Upload(const Upload&) = delete;
  Upload& operator=(const Upload&) = delete;

  Expected<void> OpenFile(const std::filesystem::path& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Fail(ErrorCode::kIo, "cannot create " + dir.string() + ": " + ec.message());
    auto name = auth::RandomHex(8);
    if (!name) return std::unexpected(name.error());
    file = dir / ("incoming-" + *name + ".archive");
    fd_ = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      const std::string why = std::strerror(errno);
      file.clear();
      return Fail(ErrorCode::kIo, "cannot create an upload file in " + dir.string() + ": " + why);
    }
    return {};
  }
  void CloseFile() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // The archive is not needed any more (refused, or loaded).
  void Discard() {
    CloseFile();
    std::error_code ec;
    if (!file.empty()) std::filesystem::remove(file, ec);
  }

  // The body's bytes, before the multipart reader sees them: the cap.
  bool Counted(std::string_view bytes) {
    body_bytes_ += bytes.size();
    if (body_bytes_ > max_bytes_) {
      over_cap = true;
      return false;
    }
    return multipart->Feed(bytes);
  }

  bool Begin(const PartHead& head) override {
    field_ = head.name;
    if (field_ == "image") {
      if (image_seen) return Stop(400, "the body has two \"image\" parts");
      image_seen = true;
    } else if (field_ == "project") {
      project.clear();
    }
    return true;
  }
  bool Data(std::string_view bytes) override {
    if (field_ == "project") {
      project.append(bytes);
      if (project.size() > kMaxProjectBytes) return Stop(400, "the \"project\" field is too long");
      return true;
    }
    if (field_ != "image") return true;  // other fields are read and ignored
    image_bytes += bytes.size();
    // Pistache reads a few kB at a time: written in larger pieces, one system call each.
    pending_.append(bytes);
    return pending_.size() < kWriteBytes || Flush();
  }
  bool Flush() {
    std::string_view bytes = pending_;
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        log::Error("upload: writing the archive failed",
                   {{"file", file.string()}, {"error", std::strerror(errno)}});
        return Stop(507, "the archive cannot be stored in the state directory (see the daemon's log)");
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    pending_.clear();
    return true;
  }
  bool End() override {
    const bool image = field_ == "image";
    field_.clear();
    return !image || Flush();
  }
  bool Stop(int status, std::string why) {
    refusal = Refusal{status, std::move(why)};
    return false;
  }

  RequestReader reader;
  std::optional<MultipartReader> multipart;
  Phase phase = Phase::kHead;
  std::filesystem::path file;
  std::string project;
  bool image_seen = false;
  std::uint64_t image_bytes = 0;
  bool over_cap = false;
  std::optional<Refusal> refusal;
  Principal who;
  std::string client;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::int64_t received_ms = 0;  // from the first byte to the end of the body
  std::mutex mutex;              // held while answering and while the connection is reported gone
  bool gone = false;

 private:
  const std::uint64_t max_bytes_;
  std::atomic<int>& open_;
  std::uint64_t body_bytes_ = 0;
  std::string field_;
  std::string pending_;  // of the image, not written yet (at most kWriteBytes)
  int fd_ = -1;
};

std::string UploadedAnswer(const std::string& id, const LoadResult& r) {
  rapidjson::StringBuffer buffer;
  json::Writer w(buffer);
  w.StartObject();
  json::Str(w, "deployment", id);
  json::Str(w, "status", "await");
  w.Key("images");
  w.StartArray();
  for (std::size_t i = 0; i < r.images.size(); ++i) {
    w.StartObject();
    json::Str(w, "image", r.images[i]);
    json::Str(w, "id", i < r.ids.size() ? r.ids[i] : "");
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return {buffer.GetString(), buffer.GetSize()};
}

void AuditUpload(Server::Impl& im, const Upload& up, std::string result, std::string detail) {
  if (!im.audit) return;
  state::AuditEntry e;
  e.actor = up.who.Known() ? up.who.Actor() : "anonymous";
  e.address = up.client;
  e.action = "upload";
  e.target = up.project.substr(0, kMaxProjectBytes);
  e.result = std::move(result);
  e.detail = std::move(detail);
  if (auto r = im.audit->Append(std::move(e)); !r)
    log::Warn("audit entry not written", {{"error", r.error().What()}});
}

// Sends the answer and ends the connection: the write side once the answer is out, so the
// client reads it whole; what it still sends of a refused body is read and dropped until it
// closes. From any thread.
void AnswerUpload(const std::shared_ptr<Pistache::Tcp::Peer>& peer, Upload& up, const Answer& answer) {
  std::lock_guard lock(up.mutex);
  if (up.phase == Upload::Phase::kAnswered) return;
  up.phase = Upload::Phase::kAnswered;
  metrics::Add("podcd_http_requests_total",
               {{"route", std::string(kRoute)}, {"code", std::to_string(answer.status)}});
  if (up.gone || !peer) return;
  std::vector<WireField> fields;
  for (const auto& [name, value] : answer.headers) fields.push_back({name, value});
  std::string bytes =
      WireBytes(HttpMinor::k1, answer.status, Http::codeString(static_cast<Http::Code>(answer.status)),
                answer.content_type, "close", fields, answer.body);
  const std::size_t size = bytes.size();
  // A copy of the descriptor: Pistache may have closed its own (and the number been reused) by
  // the time the write completes.
  auto socket = std::make_shared<int>(::fcntl(peer->fd(), F_DUPFD_CLOEXEC, 0));
  auto end = [socket] {
    if (*socket >= 0) {
      ::shutdown(*socket, SHUT_WR);
      ::close(*socket);
      *socket = -1;
    }
  };
  peer->send(Pistache::RawBuffer(std::move(bytes), size))
      .then([end](ssize_t) { end(); }, [end](const std::exception_ptr&) { end(); });
}

Answer Refused(int status, const std::string& why) { return {status, ErrorBody(why), kJsonType, true}; }

// Who may upload, and whether the upload can be taken: {0} when it can.
Answer Admit(Server::Impl& im, Pistache::Tcp::Peer& peer, Upload& up) {
  const RequestHead& head = up.reader.Head();
  if (im.draining) return Refused(503, "podcd is shutting down");
  const auto forwarded =
      im.clients.HasTrustedProxies() ? head.All("X-Forwarded-For") : std::vector<std::string>{};
  up.client = im.clients.ClientOf(peer.address().host(), forwarded);
  auto identified = im.gate->Identify(HeadHeaders(head), up.client, Clock::now());
  up.who = identified.principal;
  const auto refused = [&](int status, const std::string& why) {
    AuditUpload(im, up, "denied", why);
    return Refused(status, why);
  };
  if (up.who.Known()) {
    // A deploy-scope token, api.token, or an admin's session (with its CSRF token).
    const auth::Scope needed = up.who.via == Via::kSession ? auth::Scope::kAdmin : auth::Scope::kDeploy;
    if (!up.who.Allows(needed))
      return refused(
          403, up.who.Actor() + " may not upload: it needs scope " + std::string(auth::ToString(needed)));
    if (up.who.via == Via::kSession || up.who.via == Via::kLoopback) {
      bool same_origin = true;
      if (auto site = head.Get("Sec-Fetch-Site"); site && *site != "same-origin" && *site != "none")
        same_origin = false;
      if (auto origin = head.Get("Origin")) {
        const auto at = origin->find("://");
        same_origin = same_origin && at != std::string::npos && origin->substr(at + 3) == head.Get("Host");
      }
      const auto csrf = head.Get("X-CSRF-Token");
      if (!same_origin || (up.who.via == Via::kSession && (!csrf || !Gatekeeper::CsrfValid(up.who, *csrf))))
        return refused(403, "the upload carries no valid X-CSRF-Token header, or comes from another site");
    }
  } else {
    if (!identified.bad_bearer && !im.gate->UsersConfigured() && im.Credentials().api_token.empty())
      return refused(403, "this endpoint answers only loopback clients unless api.token is set");
    if (im.limiter.Lock()->Blocked(up.client, Clock::now()))
      return refused(429, "too many failed authentications from this address; retry later");
    im.limiter.Lock()->RecordFailure(up.client, Clock::now());
    return refused(401, "missing or invalid bearer token (a deploy-scope token may upload)");
  }
  if (im.opt.state_dir.empty() || im.loader == nullptr)
    return refused(503, "uploads need a state directory and Podman");
  if (im.uploads_open > kMaxOpenUploads) return refused(503, "too many uploads at once; retry later");
  auto boundary = MultipartBoundary(head.Get("Content-Type").value_or(""));
  if (!boundary)
    return refused(400, "the body must be multipart/form-data with the fields project and image");
  const auto max = static_cast<std::uint64_t>(im.opt.upload_max_bytes);
  if (auto length = up.reader.ContentLength(); length && *length > max)
    return refused(413, "the upload is larger than upload.max_bytes (" + std::to_string(max) + " bytes)");
  if (auto r = up.OpenFile(state::UploadsDir(im.opt.state_dir)); !r) {
    log::Error("upload: " + r.error().What());
    return refused(507, "the archive cannot be stored in the state directory (see the daemon's log)");
  }
  up.multipart.emplace(*boundary, up);
  return {0, ""};
}

// The reading stopped: the cap, a malformed body, the sink's refusal.
void BodyFailed(Server::Impl& im, const std::shared_ptr<Pistache::Tcp::Peer>& peer, Upload& up) {
  up.Discard();
  Answer a = Refused(400, "the request body is malformed");
  if (up.over_cap) {
    a = Refused(413, "the upload is larger than upload.max_bytes (" +
                         std::to_string(im.opt.upload_max_bytes) + " bytes)");
  } else if (up.refusal) {
    a = Refused(up.refusal->status, up.refusal->message);
  } else if (up.reader.Status() != 0) {
    a = Refused(up.reader.Status(), up.reader.Error());
  } else if (up.multipart && !up.multipart->Error().empty()) {
    a = Refused(400, "the multipart body is malformed: " + up.multipart->Error());
  }
  AuditUpload(im, up, "refused", a.body.substr(0, 300));
  AnswerUpload(peer, up, a);
}

// The archive checked and loaded (by the loader: a worker), then the stack's deployment queued.
Answer LoadAndDeploy(Server::Impl& im, Upload& up) {
  const auto started = std::chrono::steady_clock::now();
  auto r = im.loader->Load(up.project, up.file.string());
  if (!r) {
    log::Error("upload: the archive could not be loaded",
               {{"stack", up.project}, {"error", r.error().What()}});
    AuditUpload(im, up, "failed", r.error().message.substr(0, 300));
    return Refused(502, "the archive could not be loaded: " + r.error().message);
  }
  if (r->status != 200) {
    AuditUpload(im, up, "refused", r->error.substr(0, 300));
    return Refused(r->status, r->error);
  }
  // The uploaded-image rule holds before the deployment can start (docs/upload.md).
  const auto record = state::UploadsPath(im.opt.state_dir);
  auto remember = [&](const std::string& deployment) {
    for (std::size_t i = 0; i < r->images.size(); ++i) {
      state::UploadedImage u{r->images[i],   i < r->ids.size() ? r->ids[i] : "",
                             r->added,       deployment,
                             up.who.Actor(), state::NowMs()};
      if (auto w = state::RecordUpload(record, up.project, std::move(u)); !w)
        log::Error("upload: the uploads record was not written", {{"error", w.error().What()}});
    }
  };
  remember("");
  state::Trigger t;
  t.kind = state::TriggerKind::kDeploy;
  t.stacks = {up.project};
  t.pull = true;  // services whose image id changed are recreated; an uploaded tag is not pulled
  t.event = "upload";
  t.actor = up.who.Actor();
  auto q = im.queue.Enqueue(std::move(t));
  if (!q) {
    AuditUpload(im, up, "failed", "loaded, but no deployment was queued: " + q.error().message);
    return ErrorAnswer(QueueError(q.error()));
  }
  remember(q->id);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
          .count();
  log::Info("image uploaded and loaded; deployment queued", {{"stack", up.project},
                                                             {"images", Join(r->images, ",")},
                                                             {"bytes", std::to_string(up.image_bytes)},
                                                             {"received_ms", std::to_string(up.received_ms)},
                                                             {"load_ms", std::to_string(ms)},
                                                             {"deployment", q->id},
                                                             {"actor", up.who.Actor()}});
  AuditUpload(im, up, "queued", q->id);
  return {202, UploadedAnswer(q->id, *r)};
}

void BodyReceived(Server::Impl& im, const std::shared_ptr<Pistache::Tcp::Peer>& peer,
                  const std::shared_ptr<Upload>& up) {
  up->CloseFile();
  up->received_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - up->started)
          .count();
  auto refuse = [&](int status, const std::string& why) {
    up->Discard();
    AuditUpload(im, *up, "refused", why);
    AnswerUpload(peer, *up, Refused(status, why));
  };
  if (!up->multipart->Complete()) return refuse(400, "the multipart body ended before its closing delimiter");
  const std::string project(Trim(up->project));
  up->project = project;
  if (project.empty()) return refuse(400, "the field \"project\" (the stack) is missing");
  if (!IsValidStackName(project)) return refuse(400, "not a valid stack name: " + json::Quoted(project));
  if (!im.catalog.Exists(project)) return refuse(404, "unknown stack \"" + project + "\"");
  if (!up->image_seen || up->image_bytes == 0)
    return refuse(400, "the field \"image\" (the archive) is missing or empty");
  up->phase = Upload::Phase::kLoading;
  Background::Job job = [&im, weak = std::weak_ptr<Pistache::Tcp::Peer>(peer), up] {
    // Pistache drops a connection whose parser has waited longer than the request timeout with
    // a 408; a large archive loads for longer. An interim "102 Processing" now and then (clients
    // skip 1xx answers) is a write that reaches the client: it starts that wait anew.
    const auto every = std::clamp(im.opt.request_timeout / 3, std::chrono::milliseconds(50),
                                  std::chrono::milliseconds(5000));
    std::atomic<bool> loaded{false};
    std::thread ticker([&] {
      auto next = std::chrono::steady_clock::now() + every;
      while (!loaded) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (std::chrono::steady_clock::now() < next) continue;
        next += every;
        auto p = weak.lock();
        std::lock_guard held(up->mutex);
        if (!p || up->gone || up->phase != Upload::Phase::kLoading) return;
        static constexpr std::string_view kProcessing = "HTTP/1.1 102 Processing\r\n\r\n";
        p->send(Pistache::RawBuffer(std::string(kProcessing), kProcessing.size()))
            .then(
                [weak](ssize_t) {
                  if (auto q = weak.lock()) Http::Handler::getParser(q)->reset();
                },
                [](const std::exception_ptr&) {});
      }
    });
    const Answer a = LoadAndDeploy(im, *up);
    loaded = true;
    ticker.join();
    up->Discard();  // loaded (or refused): the archive is not kept
    AnswerUpload(weak.lock(), *up, a);
  };
  if (!im.loads.Submit(job)) return refuse(503, "too many uploads waiting to be loaded; retry later");
}

}  // namespace

void Server::Impl::SetImageLoader(ImageLoader* l) { loader = l; }

bool Server::Impl::Uploading(std::string_view bytes, const std::shared_ptr<Pistache::Tcp::Peer>& peer) {
  auto up = std::static_pointer_cast<Upload>(peer->tryGetData(kUploadKey));
  if (!up) {
    // Only a request that starts with this read: Pistache holds no part of one.
    if (Http::Handler::getParser(peer)->step()->id() != Http::Private::RequestLineStep::Id) return false;
    if (!RequestLineIs(bytes, "POST", opt.base_path + std::string(kRoute)) &&
        !RequestLineIs(bytes, "POST", kRoute))
      return false;
    up = std::make_shared<Upload>(opt.max_header_bytes, static_cast<std::uint64_t>(opt.upload_max_bytes),
                                  uploads_open);
    peer->putData(kUploadKey, up);
  }
  // Pistache's idle timer reads its parser's clock: each read of the upload starts it anew. A
  // client that stops sending for the request timeout is dropped by it, as any other.
  if (up->phase == Upload::Phase::kHead || up->phase == Upload::Phase::kBody)
    Http::Handler::getParser(peer)->reset();
  switch (up->phase) {
    case Upload::Phase::kHead: {
      if (!up->reader.Feed(bytes)) {
        AnswerUpload(peer, *up, Refused(up->reader.Status(), up->reader.Error()));
        return true;
      }
      if (!up->reader.HeadDone()) return true;
      up->phase = Upload::Phase::kBody;
      if (Answer refusal = Admit(*this, *peer, *up); refusal.status != 0) {
        AnswerUpload(peer, *up, refusal);
        return true;
      }
      if (auto expect = up->reader.Head().Get("Expect"); expect && AsciiLower(*expect) == "100-continue") {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        (void)::send(peer->fd(), kContinue.data(), kContinue.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      if (!up->reader.StartBody([raw = up.get()](std::string_view b) { return raw->Counted(b); })) {
        BodyFailed(*this, peer, *up);
        return true;
      }
      break;
    }
    case Upload::Phase::kBody: {
      if (!up->reader.Feed(bytes)) {
        BodyFailed(*this, peer, *up);
        return true;
      }
      // Pistache reads 4 kB at a time, one turn of its event loop each: what the socket holds
      // already is read here in larger pieces (at most 1 MB per turn, so other connections of
      // this reactor thread wait no longer than that).
      thread_local std::vector<char> more(kReadBytes);
      for (int i = 0; i < 16 && up->phase == Upload::Phase::kBody && !up->reader.BodyDone(); ++i) {
        const ssize_t n = ::recv(peer->fd(), more.data(), more.size(), MSG_DONTWAIT);
        if (n <= 0) break;  // nothing more now (or the end: Pistache's next read sees it)
        if (!up->reader.Feed(std::string_view(more.data(), static_cast<std::size_t>(n)))) {
          BodyFailed(*this, peer, *up);
          return true;
        }
      }
      break;
    }
    case Upload::Phase::kLoading:
    case Upload::Phase::kAnswered: return true;  // read and dropped
  }
  if (up->phase == Upload::Phase::kBody && up->reader.BodyDone()) BodyReceived(*this, peer, up);
  return true;
}

void Server::Impl::UploadGone(Pistache::Tcp::Peer& peer) {
  auto up = std::static_pointer_cast<Upload>(peer.tryGetData(kUploadKey));
  if (!up) return;
  std::lock_guard lock(up->mutex);
  up->gone = true;
}

// A POST /upload that reached Pistache: its line came split over two reads, or behind another
// request on a kept-alive connection. Pistache has read (or refused) the body by now.
void Server::Impl::PostUploadElsewhere(Exchange& x) {
  Reply(x, {400, ErrorBody("send POST /upload as the first request of its connection"), kJsonType, true});
}

void Server::Impl::GetStatus(Exchange& x) {
  const std::string_view param = x.param;
  const std::size_t slash = param.find('/');
  const std::string project(param.substr(0, slash));
  const std::string id(slash == std::string_view::npos ? std::string_view() : param.substr(slash + 1));
  if (!IsValidStackName(project))
    return ReplyError(
        x,
        {ErrorCode::kInvalidArgument, "not a valid stack name: " + json::Quoted(project.substr(0, 80)), {}});
  ProjectStatus s = Lookup(store.List(500), project, id);
  Reply(x, {200, StatusJson(s, project, opt.base_path)});
}

}  // namespace podcd::http
