#include "reconcile/containerfile.hpp"

#include <catch2/catch.hpp>

using namespace podcd::reconcile;
using Images = std::vector<std::string>;

TEST_CASE("the images a Containerfile builds from") {
  CHECK(BaseImages("FROM docker.io/library/alpine:3.20\nRUN true\n", {}) ==
        Images{"docker.io/library/alpine:3.20"});
  CHECK(BaseImages("from alpine\n", {}) == Images{"alpine"});
  CHECK(BaseImages("FROM scratch\nCOPY x /\n", {}).empty());

  // Multi-stage: a later FROM or COPY --from naming a stage (any case) or an index is no image.
  const char* multi =
      "# syntax comment\n"
      "FROM --platform=linux/amd64 golang:1.22 AS Build\n"
      "RUN go build \\\n"
      "  # a comment inside\n"
      "  -o /app\n"
      "FROM build AS test\n"
      "FROM gcr.io/distroless/static\n"
      "COPY --from=BUILD /app /app\n"
      "COPY --from=0 /app /app2\n"
      "COPY --chown=1:1 --from=nginx:1.27 /etc/nginx /etc/nginx\n"
      "FROM gcr.io/distroless/static\n";
  CHECK(BaseImages(multi, {}) == Images{"golang:1.22", "gcr.io/distroless/static", "nginx:1.27"});

  // ARGs before the first FROM, their defaults overridden by build args.
  const char* args =
      "ARG BASE=alpine\n"
      "ARG TAG=\"3.19\"\n"
      "ARG REGISTRY\n"
      "FROM ${REGISTRY:-docker.io}/$BASE:${TAG}\n"
      "ARG LATE=x\n"
      "FROM $LATE\n";
  // An ARG after the first FROM belongs to its stage: a FROM cannot use it.
  CHECK(BaseImages(args, {}) == Images{"docker.io/alpine:3.19"});
  CHECK(BaseImages(args, {{"TAG", "3.20"}, {"REGISTRY", "quay.io"}}).front() == "quay.io/alpine:3.20");
}

TEST_CASE("Containerfile heredocs are bodies, not instructions") {
  // The lines of a heredoc (RUN, COPY, ADD; BuildKit and buildah >= 1.33) up to its
  // terminator are file or script content: a FROM among them names no base image.
  const char* heredocs =
      "FROM alpine:3.19\n"
      "RUN <<EOF\n"
      "FROM not-an-image:1\n"
      "# not a comment either\n"
      "EOF\n"
      "COPY <<-\"CONF\" /etc/app.conf\n"
      "\tFROM tabbed:1\n"
      "\tCONF\n"
      "RUN cat <<'A' > /a && cat <<B > /b\n"
      "FROM in-a:1\n"
      "A\n"
      "FROM in-b:1\n"
      "B\n"
      "COPY --from=nginx:1.27 /x /x\n";
  CHECK(BaseImages(heredocs, {}) == Images{"alpine:3.19", "nginx:1.27"});
  // `<<` that is no heredoc marker (no word after it) leaves the next lines alone.
  CHECK(BaseImages("FROM a\nRUN echo $((1 << 2))\nFROM b\n", {}) == Images{"a", "b"});
  // Nor does `<<` inside a quoted string.
  CHECK(BaseImages("FROM a\nRUN echo \"x<<y\" 'p<<q'\nFROM b\n", {}) == Images{"a", "b"});
  // An unterminated heredoc swallows the rest, as the builder reads it.
  CHECK(BaseImages("FROM a\nRUN <<EOF\nFROM b\n", {}) == Images{"a"});
}
