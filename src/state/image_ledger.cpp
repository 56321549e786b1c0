#include "state/image_ledger.hpp"

#include <algorithm>

#include "state/deployment.hpp"
#include "state/stacks_file_internal.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"

namespace podcd::state {
namespace {

bool KnownHow(std::string_view how) { return how == "pulled" || how == "built" || how == "loaded"; }

void WriteImage(json::Writer& w, const BroughtImage& image) {
  w.StartObject();
  json::Str(w, "id", image.id);
  json::Str(w, "how", image.how);
  w.Key("tags");
  w.StartArray();
  for (const auto& t : image.tags) json::String(w, t);
  w.EndArray();
  json::Int(w, "brought_ms", image.brought_ms);
  json::Int(w, "used_ms", image.used_ms);
  w.EndObject();
}

Expected<BroughtImage> ReadImage(const rapidjson::Value& v, const std::string& at) {
  if (!v.IsObject()) return Fail(ErrorCode::kInvalidArgument, "an image is not an object", at);
  BroughtImage image;
  image.id = json::GetStr(v, "id");
  image.how = json::GetStr(v, "how");
  if (image.id.empty() || image.id.size() > 128 || image.id.find('/') != std::string::npos)
    return Fail(ErrorCode::kInvalidArgument, "field \"id\" is missing or not an image id", at);
  if (!KnownHow(image.how))
    return Fail(ErrorCode::kInvalidArgument, "field \"how\" is not pulled, built or loaded",
                at + " " + image.id);
  if (auto tags = v.FindMember("tags"); tags != v.MemberEnd()) {
    if (!tags->value.IsArray())
      return Fail(ErrorCode::kInvalidArgument, "field \"tags\" is not an array", at + " " + image.id);
    for (const auto& t : tags->value.GetArray()) {
      if (!t.IsString())
        return Fail(ErrorCode::kInvalidArgument, "a tag is not a string", at + " " + image.id);
      image.tags.emplace_back(t.GetString(), t.GetStringLength());
    }
  }
  image.brought_ms = json::GetInt(v, "brought_ms");
  image.used_ms = json::GetInt(v, "used_ms");
  return image;
}

}  // namespace

std::filesystem::path ImageLedgerPath(const std::filesystem::path& state_dir) {
  return state_dir / "images.json";
}

std::string EncodeImageLedger(const ImageLedger& ledger) {
  return EncodeStacksFile([&](json::Writer& w) {
    for (const auto& [stack, services] : ledger) {
      w.Key(stack.c_str(), static_cast<rapidjson::SizeType>(stack.size()));
      w.StartObject();
      for (const auto& [service, images] : services) {
        w.Key(service.c_str(), static_cast<rapidjson::SizeType>(service.size()));
        w.StartArray();
        for (const auto& image : images) WriteImage(w, image);
        w.EndArray();
      }
      w.EndObject();
    }
  });
}

Expected<ImageLedger> DecodeImageLedger(std::string_view text, const std::string& where) {
  ImageLedger out;
  auto read = DecodeStacksFile(
      text, where,
      [&](const std::string& stack, const rapidjson::Value& v, const std::string& at) -> Expected<void> {
        if (!v.IsObject()) return Fail(ErrorCode::kInvalidArgument, "not an object", at);
        for (auto svc = v.MemberBegin(); svc != v.MemberEnd(); ++svc) {
          const std::string service(svc->name.GetString(), svc->name.GetStringLength());
          const std::string sat = at + " service " + json::Quoted(service.substr(0, 80));
          if (service.empty() || !svc->value.IsArray())
            return Fail(ErrorCode::kInvalidArgument, "not a service's list of images", sat);
          ServiceImages images;
          for (const auto& i : svc->value.GetArray()) {
            auto image = ReadImage(i, sat);
            if (!image) return std::unexpected(image.error());
            images.push_back(std::move(*image));
          }
          if (!images.empty()) out[stack][service] = std::move(images);
        }
        return {};
      });
  if (!read) return std::unexpected(read.error());
  return out;
}

Expected<ImageLedger> ReadImageLedger(const std::filesystem::path& file) {
  auto text = ReadStacksFile(file, 16u << 20);
  if (!text) return std::unexpected(text.error());
  if (!*text) return ImageLedger{};
  return DecodeImageLedger(**text, file.string());
}

void AddBrought(ImageLedger& ledger, const std::string& stack, const std::string& service,
                BroughtImage image) {
  auto& images = ledger[stack][service];
  auto it = std::find_if(images.begin(), images.end(), [&](const auto& i) { return i.id == image.id; });
  if (it != images.end()) {
    // Brought again (pulled back after a removal, say): one entry, every name it had.
    for (auto& t : it->tags) {
      if (std::find(image.tags.begin(), image.tags.end(), t) == image.tags.end()) image.tags.push_back(t);
    }
    image.used_ms = std::max(image.used_ms, it->used_ms);
    images.erase(it);
  }
  images.push_back(std::move(image));
}

bool MarkUsed(ImageLedger& ledger, const std::string& stack, const std::string& service,
              const std::string& id, std::int64_t now_ms) {
  auto s = ledger.find(stack);
  if (s == ledger.end()) return false;
  auto svc = s->second.find(service);
  if (svc == s->second.end()) return false;
  auto& images = svc->second;
  auto it = std::find_if(images.begin(), images.end(), [&](const auto& i) { return i.id == id; });
  if (it == images.end()) return false;
  BroughtImage image = std::move(*it);
  image.used_ms = now_ms;
  images.erase(it);
  images.push_back(std::move(image));
  return true;
}

void Forget(ImageLedger& ledger, const std::string& id) {
  for (auto s = ledger.begin(); s != ledger.end();) {
    for (auto svc = s->second.begin(); svc != s->second.end();) {
      std::erase_if(svc->second, [&](const auto& i) { return i.id == id; });
      svc = svc->second.empty() ? s->second.erase(svc) : std::next(svc);
    }
    s = s->second.empty() ? ledger.erase(s) : std::next(s);
  }
}

Expected<ImageLedger> ImageLedgerFile::Update(const std::function<void(ImageLedger&)>& change) {
  std::lock_guard guard(mutex_);
  // The daemon (an upload) and the workers of parallel deployments take the same lock.
  auto lock = LockStacksFile(file_);
  if (!lock) return std::unexpected(lock.error());
  auto ledger = ReadImageLedger(file_);
  if (!ledger) return std::unexpected(ledger.error());
  change(*ledger);
  if (auto r = WriteFileAtomic(file_, EncodeImageLedger(*ledger)); !r) return std::unexpected(r.error());
  return ledger;
}

Expected<void> RecordBrought(const std::filesystem::path& state_dir, const std::string& stack,
                             const std::string& service, const std::string& image_id, const std::string& how,
                             std::vector<std::string> tags) {
  if (!IsValidStackName(stack)) return Fail(ErrorCode::kInvalidArgument, "not a valid stack name", stack);
  if (!KnownHow(how)) return Fail(ErrorCode::kInvalidArgument, "how is not pulled, built or loaded", how);
  ImageLedgerFile file(ImageLedgerPath(state_dir));
  auto r = file.Update([&](ImageLedger& ledger) {
    AddBrought(ledger, stack, service, {image_id, how, std::move(tags), NowMs(), 0});
  });
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace podcd::state
