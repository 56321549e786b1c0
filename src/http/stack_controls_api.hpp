// The JSON side of the stack controls (state/controls.hpp): POST /actions/suspend/<stack>,
// /actions/resume/<stack>, /actions/pin/<stack>, /actions/unpin/<stack>, and what GET /stacks
// shows of them. The server's handlers are one line each: they pass the stack, the body and who
// asks (the actor word) and reply with the Answer.
//
// Answers (docs/stack-controls.md):
//   suspend, resume: 200
//   {"stack":S,"state":"suspended|pinned|active","suspended":{..}|null,"pinned":{..}|null} pin, unpin: 202
//   {"deployment":ID,"status":"queued","control":<the same object>}
//                    (200 with the control alone when nothing is deployed: the stack is
//                    suspended, or unpin of a stack that was not pinned)
//   errors:          400 bad name or body, 404 unknown stack, 422 a pin refused (not a successful
//                    deployment of that stack), 500 the controls file (named in the log)
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/answers.hpp"
#include "http/catalog.hpp"
#include "reconcile/queue.hpp"
#include "state/controls.hpp"
#include "state/store.hpp"

namespace podcd::http {

// The fields of a POST body: JSON {"deployment":"ID","note":"..."} or a form
// (deployment=ID&note=...&csrf=...); unknown fields are ignored (the form's csrf).
struct ControlBody {
  std::string deployment;
  std::string note;
};
Expected<ControlBody> ParseControlBody(std::string_view body, std::string_view content_type);

// The commit a successful deployment `d` deployed `stack` at; the reason otherwise.
Expected<std::string> PinnableCommit(const state::Deployment& d, const std::string& stack);

// GET /stacks: marks each stack with its control ("suspended" / "pinned" states).
void ApplyControls(std::vector<StackInfo>& stacks, const state::StackControls& controls);

class StackControlsApi {
 public:
  // `file` empty: every action answers 503 (a server without a state directory, in tests).
  StackControlsApi(std::string file, state::Store& store, reconcile::WorkQueue& queue, StackCatalog& catalog);

  [[nodiscard]] Answer Suspend(const std::string& stack, std::string_view body, std::string_view content_type,
                               const std::string& actor);
  [[nodiscard]] Answer Resume(const std::string& stack, const std::string& actor);
  [[nodiscard]] Answer Pin(const std::string& stack, std::string_view body, std::string_view content_type,
                           const std::string& actor);
  [[nodiscard]] Answer Unpin(const std::string& stack, const std::string& actor);

 private:
  // The stack name checked (and that it exists when `must_exist`); nullopt when fine.
  std::optional<Answer> CheckStack(const std::string& stack, bool must_exist);
  // A deployment of `stack` queued after a pin or unpin: 202 with its id and the control.
  Answer Deploy(const std::string& stack, const state::StackControl& control, const std::string& why,
                const std::string& actor);

  std::optional<state::StackControlsFile> file_;
  state::Store& store_;
  reconcile::WorkQueue& queue_;
  StackCatalog& catalog_;
};

}  // namespace podcd::http
