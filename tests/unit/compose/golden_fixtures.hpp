// Compose files that use every key podcd accepts, shared by the golden canonical-form test
// and the per-key mutation test.
#pragma once

#include "helpers.hpp"

namespace podcd::test {

// The files the fixtures reference; and every profile active (COMPOSE_PROFILES=* in podcd's
// environment, which enters no fingerprint), so that the profiled services are deployed.
inline void WriteGoldenFiles(Repo& repo) {
  repo.options.host_env =
      compose::ChainLookup(repo.options.host_env, compose::MapLookup({{"COMPOSE_PROFILES", "*"}}));
  for (const char* stack : {"golden", "web", "stack7"}) {
    const std::string dir = std::string("services/") + stack + "/";
    repo.Write(dir + ".env", "TAG=1.2\nPORT=20007\nGREETING=hello\n");
    repo.Write(dir + "podman-compose.env", "TAG=0.9\nFROM_PODMAN=p\n");
    repo.Write(dir + "web.env", "FROM_FILE=1\nFOO=from-file\n");
    repo.Write(dir + "app.env", "E=1\n");
    repo.Write(dir + "nginx.conf", "server{}\n");
    repo.Write(dir + "html/index.html", "<h1>hi</h1>\n");
    repo.Write(dir + "html/sub/a.css", "a{}\n");
    repo.Write(dir + "conf.d/part0.conf", "value=0\n");
    repo.Write(dir + "conf.d/part1.conf", "value=7\n");
    repo.Write(dir + "cfg.conf", "c=1\n");
    repo.Write(dir + "ctx/Containerfile", "FROM scratch\nCOPY app.txt /\n");
    repo.Write(dir + "ctx/app.txt", "app\n");
    repo.Write(dir + "ctx/.containerignore", "skipped.txt\n");
    repo.Write(dir + "ctx/skipped.txt", "not hashed\n");
  }
  repo.Write("secrets/tok.txt", "token\n");
}

// Every service key, every top-level section and their sub-keys, in both syntaxes where
// compose has two.
inline const char* kGoldenEveryKey = R"(
version: "3.9"
name: golden
x-common: &common
  restart: unless-stopped
  init: true
services:
  web:
    <<: *common
    image: localhost/web:${TAG}
    build:
      context: ./ctx
      dockerfile: Containerfile
      args: {A: "1", B: two}
      target: prod
      labels: {l: v}
    pull_policy: build
    command: nginx -g "daemon off;"
    entrypoint: ["/bin/sh", "-c"]
    environment:
      FOO: bar
      EMPTY: ""
      GREETING:
    env_file:
      - web.env
      - path: opt.env
        required: false
    ports:
      - "127.0.0.1:8080:80"
      - "9000-9001:9000-9001/udp"
      - target: 443
        published: "8443"
        host_ip: 0.0.0.0
        protocol: tcp
        mode: host
        name: https
        app_protocol: https
    expose: ["3000", "4000/udp"]
    volumes:
      - ./nginx.conf:/etc/nginx/nginx.conf:ro,Z
      - ./html:/usr/share/html:U,rshared
      - data:/data:nocopy
      - /anon
      - type: bind
        source: ./conf.d
        target: /srv
        read_only: true
        bind: {propagation: rslave, create_host_path: false, selinux: z}
      - type: volume
        source: cache
        target: /cache
        volume: {nocopy: true, subpath: sub}
      - type: tmpfs
        target: /tmp
        tmpfs: {size: 64m, mode: "1777"}
      - /etc/localtime:/etc/localtime:ro
    networks:
      front:
        aliases: [www]
        ipv4_address: 10.5.0.5
        ipv6_address: fd00::5
        priority: 10
      back:
    links: ["api:backend"]
    labels: {com.example: "1", other: two}
    healthcheck:
      test: curl -f http://localhost
      interval: 1m30s
      timeout: 10s
      start_period: 5s
      start_interval: 2s
      retries: 3
    depends_on:
      api: {condition: service_healthy, restart: true, required: false}
    user: "1000:1000"
    working_dir: /srv
    hostname: web
    domainname: example.org
    cap_add: [net_admin, CAP_SYS_TIME]
    cap_drop: [ALL]
    privileged: true
    read_only: true
    tmpfs: /run
    stop_grace_period: 20s
    stop_signal: SIGINT
    extra_hosts: ["db.local:10.0.0.2", "other=10.0.0.3"]
    logging: {driver: json-file, options: {max-size: 10m}}
    profiles: [prod]
    container_name: golden-web
    shm_size: 64m
    mem_limit: 1g
    mem_reservation: 512m
    memswap_limit: -1
    cpus: 1.5
    cpu_shares: 512
    pids_limit: 100
    deploy:
      resources:
        limits: {cpus: "0.5", memory: 256m, pids: 50}
        reservations: {cpus: "0.25", memory: 128m}
    ulimits:
      nofile: {soft: 1024, hard: 2048}
      nproc: 512
    sysctls: {net.core.somaxconn: "1024"}
    dns: 1.1.1.1
    dns_search: [example.org]
    dns_opt: [use-vc]
    stdin_open: true
    tty: true
    security_opt: [no-new-privileges]
    group_add: [audio]
    platform: linux/amd64
    devices: ["/dev/fuse:/dev/fuse:rwm", {source: /dev/null, target: /dev/nul2, permissions: r}]
    pid: host
    ipc: shareable
    userns_mode: keep-id
    configs: [cfg, {source: cfg2, target: /etc/cfg2, uid: "1", gid: "2", mode: 0440}]
    secrets: [tok, {source: ext, target: tokfile, mode: "0400"}]
    runtime: runc
    x-note: ignored
  api:
    image: localhost/api:1
    build: ./ctx
    networks: [default, legacy, named]
    command: ["httpd", "-f"]
    entrypoint: ""
  db:
    image: postgres:16
    network_mode: host
    environment: ["A=1", "B=x=y", FROM_PODMAN]
    command:
    healthcheck: {disable: true}
    init: false
    restart: on-failure:3
    pull_policy: if_not_present
    extra_hosts: {h1: 10.0.0.9}
    depends_on: [api]
    volumes: ["data:/var/lib/postgresql/data"]
    env_file: app.env
  side:
    image: busybox
    network_mode: "service:db"
    ipc: "service:db"
    healthcheck: {test: [CMD, "true"], retries: 1}
networks:
  front:
    driver: bridge
    driver_opts: {mtu: "1400"}
    labels: {n: "1"}
    internal: true
    enable_ipv6: true
    ipam: {config: [{subnet: 10.5.0.0/24, gateway: 10.5.0.1}, {subnet: "fd00::/64"}]}
    x-doc: ignored
  back:
    external: true
  legacy:
    external: {name: real-legacy}
  named: {name: custom-net}
volumes:
  data:
    driver: local
    driver_opts: {type: tmpfs}
    labels: {v: "1"}
    name: golden-data
  cache:
    external: true
configs:
  cfg: {file: ./cfg.conf}
  cfg2: {file: ./cfg.conf, name: cfg-two}
secrets:
  tok: {file: ../../secrets/tok.txt}
  ext: {external: true, name: real-ext}
)";

// The base of tests/unit/compose/fingerprint_test.cpp (which uses this one).
inline const char* kGoldenBase = R"(
services:
  app:
    image: nginx:1
    environment: {A: "1", B: "2"}
    ports: ["8080:80"]
    volumes: ["./nginx.conf:/etc/nginx.conf:ro", "./html:/html", "data:/data"]
    env_file: app.env
    configs: [cfg]
    secrets: [tok]
    labels: {x: y}
  other:
    image: busybox
volumes:
  data:
configs:
  cfg: {file: ./cfg.conf}
secrets:
  tok: {file: ../../secrets/tok.txt}
)";

// The stack bench/plan_bench.cpp generates (stack 7).
inline const char* kGoldenBench = R"(x-common: &common
  restart: unless-stopped
  init: true
services:
  web:
    <<: *common
    image: localhost/bb:${TAG}
    ports: ["127.0.0.1:${PORT}:80"]
    volumes: ["./nginx.conf:/etc/nginx.conf:ro", "./conf.d:/etc/conf.d:ro"]
    environment: {GREETING: "${GREETING}", STACK: stack7}
    depends_on: {api: {condition: service_healthy}}
  api:
    <<: *common
    image: localhost/bb:1
    command: ["httpd", "-f", "-p", "8080"]
    healthcheck: {test: ["CMD", "true"], interval: 5s, retries: 3}
    networks: {default: {aliases: [api.internal]}}
  db:
    <<: *common
    image: localhost/bb:1
    volumes: ["data:/data"]
    env_file: [.env]
volumes:
  data: {}
)";

inline const char* kGoldenEveryKeyExpected = R"golden(== golden/api
build={"args":{},"context":"./ctx","dockerfile":"","labels":{},"target":""}
cap_add=[]
cap_drop=[]
command=["httpd","-f"]
configs=[]
container_name=""
cpu_shares=0
cpus=0
depends_on={}
deploy={"limits":{"cpus":0,"memory":0,"pids":0},"reservations":{"cpus":0,"memory":0,"pids":0}}
devices=[]
dns=[]
dns_opt=[]
dns_search=[]
domainname=""
entrypoint=[]
environment={0}
expose=[]
extra_hosts=[]
group_add=[]
healthcheck=null
hostname=""
image="localhost/api:1"
init=null
ipc=""
labels={0}
links=[]
logging=null
mem_limit=0
mem_reservation=0
memswap_limit=0
name="api"
network default={"driver":"","driver_opts":{},"enable_ipv6":false,"external":false,"internal":false,"labels":{},"name":"golden_default"}
network legacy={"driver":"","driver_opts":{},"enable_ipv6":false,"external":true,"internal":false,"labels":{},"name":"real-legacy"}
network named={"driver":"","driver_opts":{},"enable_ipv6":false,"external":false,"internal":false,"labels":{},"name":"custom-net"}
network_mode=""
networks=["default","legacy","named"]
networks.default={"aliases":["backend"],"ipv4_address":"","ipv6_address":"","priority":null}
networks.legacy={"aliases":["backend"],"ipv4_address":"","ipv6_address":"","priority":null}
networks.named={"aliases":["backend"],"ipv4_address":"","ipv6_address":"","priority":null}
pid=""
pids_limit=0
platform=""
ports=[]
privileged=false
profiles=[]
project="golden"
pull_policy=""
read_only=false
restart="no"
secrets=[]
security_opt=[]
shm_size=0
stdin_open=false
stop_grace_period=null
stop_signal=""
sysctls={}
tmpfs=[]
tty=false
ulimits={}
user=""
userns_mode=""
volumes=[]
working_dir=""
fingerprint d5bef55ca538233a50b5fcd29abc6d54dfd5dd83d736e94595f7e7907373d574
== golden/db
build=null
cap_add=[]
cap_drop=[]
command=[]
configs=[]
container_name=""
cpu_shares=0
cpus=0
depends_on={"api":{"condition":"service_started","required":true,"restart":false}}
deploy={"limits":{"cpus":0,"memory":0,"pids":0},"reservations":{"cpus":0,"memory":0,"pids":0}}
devices=[]
dns=[]
dns_opt=[]
dns_search=[]
domainname=""
entrypoint=null
environment={4}
environment.A="1"
environment.B="x=y"
environment.E="1"
environment.FROM_PODMAN="p"
expose=[]
extra_hosts=["h1:10.0.0.9"]
file services/golden/app.env=env_file 98d367905290fa6e213b963cbbe631f3ae16627dde3c69b5164cb2e2bb35fc82
group_add=[]
healthcheck={"disable":true,"interval":0,"retries":0,"start_interval":0,"start_period":0,"test":["NONE"],"timeout":0}
hostname=""
image="postgres:16"
init=false
ipc=""
labels={0}
links=[]
logging=null
mem_limit=0
mem_reservation=0
memswap_limit=0
name="db"
network_mode="host"
networks=[]
pid=""
pids_limit=0
platform=""
ports=[]
privileged=false
profiles=[]
project="golden"
pull_policy="missing"
read_only=false
restart="on-failure:3"
secrets=[]
security_opt=[]
shm_size=0
stdin_open=false
stop_grace_period=null
stop_signal=""
sysctls={}
tmpfs=[]
tty=false
ulimits={}
user=""
userns_mode=""
volume data={"driver":"local","driver_opts":{"type":"tmpfs"},"external":false,"labels":{"v":"1"},"name":"golden-data"}
volumes=[{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":false,"repo_path":"","selinux":"","source":"data","subpath":"","target":"/var/lib/postgresql/data","tmpfs_mode":null,"tmpfs_size":0,"type":"volume"}]
working_dir=""
fingerprint 08099aa6a6616c331d185c41e4cd10f46c4f884e57bc37bd8f7687bf246f9b05
== golden/side
build=null
cap_add=[]
cap_drop=[]
command=null
configs=[]
container_name=""
cpu_shares=0
cpus=0
depends_on={}
deploy={"limits":{"cpus":0,"memory":0,"pids":0},"reservations":{"cpus":0,"memory":0,"pids":0}}
devices=[]
dns=[]
dns_opt=[]
dns_search=[]
domainname=""
entrypoint=null
environment={0}
expose=[]
extra_hosts=[]
group_add=[]
healthcheck={"disable":false,"interval":0,"retries":1,"start_interval":0,"start_period":0,"test":["CMD","true"],"timeout":0}
hostname=""
image="busybox"
init=null
ipc="service:db"
labels={0}
links=[]
logging=null
mem_limit=0
mem_reservation=0
memswap_limit=0
name="side"
network_mode="service:db"
networks=[]
pid=""
pids_limit=0
platform=""
ports=[]
privileged=false
profiles=[]
project="golden"
pull_policy=""
read_only=false
restart="no"
secrets=[]
security_opt=[]
shm_size=0
stdin_open=false
stop_grace_period=null
stop_signal=""
sysctls={}
tmpfs=[]
tty=false
ulimits={}
user=""
userns_mode=""
volumes=[]
working_dir=""
fingerprint d41db04c27f4add27552d125e4960fb8bb2dc80a46966eb66815d6be175818ff
== golden/web
build={"args":{"A":"1","B":"two"},"context":"./ctx","dockerfile":"Containerfile","labels":{"l":"v"},"target":"prod"}
cap_add=["NET_ADMIN","SYS_TIME"]
cap_drop=["ALL"]
command=["nginx","-g","daemon off;"]
config cfg={"external":false,"file":"services/golden/cfg.conf","name":""}
config cfg2={"external":false,"file":"services/golden/cfg.conf","name":"cfg-two"}
configs=[{"gid":"","mode":null,"source":"cfg","target":"","uid":""},{"gid":"2","mode":288,"source":"cfg2","target":"/etc/cfg2","uid":"1"}]
container_name="golden-web"
cpu_shares=512
cpus=1500000000
depends_on={"api":{"condition":"service_healthy","required":false,"restart":true}}
deploy={"limits":{"cpus":500000000,"memory":268435456,"pids":50},"reservations":{"cpus":250000000,"memory":134217728,"pids":0}}
devices=[{"container_path":"/dev/fuse","host_path":"/dev/fuse","permissions":"rwm"},{"container_path":"/dev/nul2","host_path":"/dev/null","permissions":"r"}]
dns=["1.1.1.1"]
dns_opt=["use-vc"]
dns_search=["example.org"]
domainname="example.org"
entrypoint=["/bin/sh","-c"]
environment={4}
environment.EMPTY=""
environment.FOO="bar"
environment.FROM_FILE="1"
environment.GREETING="hello"
expose=["3000","4000/udp"]
extra_hosts=["db.local:10.0.0.2","other:10.0.0.3"]
file secrets/tok.txt=secret e078cb80a315c1545d5396567810bf94dc360f30bfdaae14ca6aad6cf9fe768d
file services/golden/cfg.conf=config 60b2b3de78bc8001c712db2c6058e3717fe99576ec1f3cab0536a17e50793d3b
file services/golden/conf.d=bind_dir 475f0e99e1e2bd5ee50f8de0aaa975f48f65ec07e0ab62e968220ffcdeda7dc7
file services/golden/ctx=build_context 073023ef567f1032be5d4cc41272a9c559ca817e0ef0f8e0d3caf6ddae9c0378
file services/golden/html=bind_dir 5507866d91b5e807420a1a09e542eb2621dc972bd3652daf02f05e5c078b050d
file services/golden/nginx.conf=bind_file 989a8fd37b3945f5945d82b8d5839c0cf4c2e71b9aca91d316ba264ce781c8df
file services/golden/web.env=env_file fb6365520492afb286b63a31e0e828830be00a0202301f73f077154aa8fa701e
group_add=["audio"]
healthcheck={"disable":false,"interval":90000000000,"retries":3,"start_interval":2000000000,"start_period":5000000000,"test":["CMD-SHELL","curl -f http://localhost"],"timeout":10000000000}
hostname="web"
image="localhost/web:1.2"
init=true
ipc="shareable"
labels={2}
labels.com.example="1"
labels.other="two"
links=["api:backend"]
logging={"driver":"json-file","options":{"max-size":"10m"}}
mem_limit=1073741824
mem_reservation=536870912
memswap_limit=-1
name="web"
network back={"driver":"","driver_opts":{},"enable_ipv6":false,"external":true,"internal":false,"labels":{},"name":"back"}
network front={"driver":"bridge","driver_opts":{"mtu":"1400"},"enable_ipv6":true,"external":false,"internal":true,"ipam":{"config":[{"aux_addresses":{},"gateway":"10.5.0.1","ip_range":"","subnet":"10.5.0.0/24"},{"aux_addresses":{},"gateway":"","ip_range":"","subnet":"fd00::/64"}],"driver":""},"labels":{"n":"1"},"name":"golden_front"}
network_mode=""
networks=["back","front"]
networks.back={"aliases":[],"ipv4_address":"","ipv6_address":"","priority":null}
networks.front={"aliases":["www"],"ipv4_address":"10.5.0.5","ipv6_address":"fd00::5","priority":10}
pid="host"
pids_limit=100
platform="linux/amd64"
ports=[{"app_protocol":"","host_ip":"127.0.0.1","mode":"","name":"","protocol":"tcp","published":[8080,8080],"target":[80,80]},{"app_protocol":"","host_ip":"","mode":"","name":"","protocol":"udp","published":[9000,9001],"target":[9000,9001]},{"app_protocol":"https","host_ip":"0.0.0.0","mode":"host","name":"https","protocol":"tcp","published":[8443,8443],"target":[443,443]}]
privileged=true
profiles=["prod"]
project="golden"
pull_policy="build"
read_only=true
restart="unless-stopped"
runtime="runc"
secret ext={"external":true,"file":"","name":"real-ext"}
secret tok={"external":false,"file":"secrets/tok.txt","name":""}
secrets=[{"gid":"","mode":null,"source":"tok","target":"","uid":""},{"gid":"","mode":256,"source":"ext","target":"tokfile","uid":""}]
security_opt=["no-new-privileges"]
shm_size=67108864
stdin_open=true
stop_grace_period=20000000000
stop_signal="SIGINT"
sysctls={"net.core.somaxconn":"1024"}
tmpfs=["/run"]
tty=true
ulimits={"nofile":{"hard":2048,"soft":1024},"nproc":{"hard":512,"soft":512}}
user="1000:1000"
userns_mode="keep-id"
volume cache={"driver":"","driver_opts":{},"external":true,"labels":{},"name":"cache"}
volume data={"driver":"local","driver_opts":{"type":"tmpfs"},"external":false,"labels":{"v":"1"},"name":"golden-data"}
volumes=[{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":true,"repo_path":"services/golden/nginx.conf","selinux":"Z","source":"<repo>/services/golden/nginx.conf","subpath":"","target":"/etc/nginx/nginx.conf","tmpfs_mode":null,"tmpfs_size":0,"type":"bind"},{"chown":true,"create_host_path":true,"nocopy":false,"propagation":"rshared","read_only":false,"repo_path":"services/golden/html","selinux":"","source":"<repo>/services/golden/html","subpath":"","target":"/usr/share/html","tmpfs_mode":null,"tmpfs_size":0,"type":"bind"},{"chown":false,"create_host_path":true,"nocopy":true,"propagation":"","read_only":false,"repo_path":"","selinux":"","source":"data","subpath":"","target":"/data","tmpfs_mode":null,"tmpfs_size":0,"type":"volume"},{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":false,"repo_path":"","selinux":"","source":"","subpath":"","target":"/anon","tmpfs_mode":null,"tmpfs_size":0,"type":"volume"},{"chown":false,"create_host_path":false,"nocopy":false,"propagation":"rslave","read_only":true,"repo_path":"services/golden/conf.d","selinux":"z","source":"<repo>/services/golden/conf.d","subpath":"","target":"/srv","tmpfs_mode":null,"tmpfs_size":0,"type":"bind"},{"chown":false,"create_host_path":true,"nocopy":true,"propagation":"","read_only":false,"repo_path":"","selinux":"","source":"cache","subpath":"sub","target":"/cache","tmpfs_mode":null,"tmpfs_size":0,"type":"volume"},{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":false,"repo_path":"","selinux":"","source":"","subpath":"","target":"/tmp","tmpfs_mode":1023,"tmpfs_size":67108864,"type":"tmpfs"},{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":true,"repo_path":"","selinux":"","source":"/etc/localtime","subpath":"","target":"/etc/localtime","tmpfs_mode":null,"tmpfs_size":0,"type":"bind"}]
working_dir="/srv"
fingerprint 3eef62022ddeae152837c9df4a2194b191239481ba3f733712753d358d32f606
)golden";
inline const char* kGoldenBaseExpected = R"golden(== web/app
build=null
cap_add=[]
cap_drop=[]
command=null
config cfg={"external":false,"file":"services/web/cfg.conf","name":""}
configs=[{"gid":"","mode":null,"source":"cfg","target":"","uid":""}]
container_name=""
cpu_shares=0
cpus=0
depends_on={}
deploy={"limits":{"cpus":0,"memory":0,"pids":0},"reservations":{"cpus":0,"memory":0,"pids":0}}
devices=[]
dns=[]
dns_opt=[]
dns_search=[]
domainname=""
entrypoint=null
environment={3}
environment.A="1"
environment.B="2"
environment.E="1"
expose=[]
extra_hosts=[]
file secrets/tok.txt=secret e078cb80a315c1545d5396567810bf94dc360f30bfdaae14ca6aad6cf9fe768d
file services/web/app.env=env_file 98d367905290fa6e213b963cbbe631f3ae16627dde3c69b5164cb2e2bb35fc82
file services/web/cfg.conf=config 60b2b3de78bc8001c712db2c6058e3717fe99576ec1f3cab0536a17e50793d3b
file services/web/html=bind_dir 5507866d91b5e807420a1a09e542eb2621dc972bd3652daf02f05e5c078b050d
file services/web/nginx.conf=bind_file 989a8fd37b3945f5945d82b8d5839c0cf4c2e71b9aca91d316ba264ce781c8df
group_add=[]
healthcheck=null
hostname=""
image="nginx:1"
init=null
ipc=""
labels={1}
labels.x="y"
links=[]
logging=null
mem_limit=0
mem_reservation=0
memswap_limit=0
name="app"
network default={"driver":"","driver_opts":{},"enable_ipv6":false,"external":false,"internal":false,"labels":{},"name":"web_default"}
network_mode=""
networks=["default"]
networks.default={"aliases":[],"ipv4_address":"","ipv6_address":"","priority":null}
pid=""
pids_limit=0
platform=""
ports=[{"app_protocol":"","host_ip":"","mode":"","name":"","protocol":"tcp","published":[8080,8080],"target":[80,80]}]
privileged=false
profiles=[]
project="web"
pull_policy=""
read_only=false
restart="no"
secret tok={"external":false,"file":"secrets/tok.txt","name":""}
secrets=[{"gid":"","mode":null,"source":"tok","target":"","uid":""}]
security_opt=[]
shm_size=0
stdin_open=false
stop_grace_period=null
stop_signal=""
sysctls={}
tmpfs=[]
tty=false
ulimits={}
user=""
userns_mode=""
volume data={"driver":"","driver_opts":{},"external":false,"labels":{},"name":"web_data"}
volumes=[{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":true,"repo_path":"services/web/nginx.conf","selinux":"","source":"<repo>/services/web/nginx.conf","subpath":"","target":"/etc/nginx.conf","tmpfs_mode":null,"tmpfs_size":0,"type":"bind"},{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":false,"repo_path":"services/web/html","selinux":"","source":"<repo>/services/web/html","subpath":"","target":"/html","tmpfs_mode":null,"tmpfs_size":0,"type":"bind"},{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":false,"repo_path":"","selinux":"","source":"data","subpath":"","target":"/data","tmpfs_mode":null,"tmpfs_size":0,"type":"volume"}]
working_dir=""
fingerprint e3381679d53a9015f26118b4b60bf121f0d1a895ea62f36aa34c9ef6d69bd8f7
== web/other
build=null
cap_add=[]
cap_drop=[]
command=null
configs=[]
container_name=""
cpu_shares=0
cpus=0
depends_on={}
deploy={"limits":{"cpus":0,"memory":0,"pids":0},"reservations":{"cpus":0,"memory":0,"pids":0}}
devices=[]
dns=[]
dns_opt=[]
dns_search=[]
domainname=""
entrypoint=null
environment={0}
expose=[]
extra_hosts=[]
group_add=[]
healthcheck=null
hostname=""
image="busybox"
init=null
ipc=""
labels={0}
links=[]
logging=null
mem_limit=0
mem_reservation=0
memswap_limit=0
name="other"
network default={"driver":"","driver_opts":{},"enable_ipv6":false,"external":false,"internal":false,"labels":{},"name":"web_default"}
network_mode=""
networks=["default"]
networks.default={"aliases":[],"ipv4_address":"","ipv6_address":"","priority":null}
pid=""
pids_limit=0
platform=""
ports=[]
privileged=false
profiles=[]
project="web"
pull_policy=""
read_only=false
restart="no"
secrets=[]
security_opt=[]
shm_size=0
stdin_open=false
stop_grace_period=null
stop_signal=""
sysctls={}
tmpfs=[]
tty=false
ulimits={}
user=""
userns_mode=""
volumes=[]
working_dir=""
fingerprint 0dbf8e859b37e7cbfe8dac8711c2c77a609cc6a7d7198fc275f88036957cc6cd
)golden";
inline const char* kGoldenBenchExpected = R"golden(== stack7/api
build=null
cap_add=[]
cap_drop=[]
command=["httpd","-f","-p","8080"]
configs=[]
container_name=""
cpu_shares=0
cpus=0
depends_on={}
deploy={"limits":{"cpus":0,"memory":0,"pids":0},"reservations":{"cpus":0,"memory":0,"pids":0}}
devices=[]
dns=[]
dns_opt=[]
dns_search=[]
domainname=""
entrypoint=null
environment={0}
expose=[]
extra_hosts=[]
group_add=[]
healthcheck={"disable":false,"interval":5000000000,"retries":3,"start_interval":0,"start_period":0,"test":["CMD","true"],"timeout":0}
hostname=""
image="localhost/bb:1"
init=true
ipc=""
labels={0}
links=[]
logging=null
mem_limit=0
mem_reservation=0
memswap_limit=0
name="api"
network default={"driver":"","driver_opts":{},"enable_ipv6":false,"external":false,"internal":false,"labels":{},"name":"stack7_default"}
network_mode=""
networks=["default"]
networks.default={"aliases":["api.internal"],"ipv4_address":"","ipv6_address":"","priority":null}
pid=""
pids_limit=0
platform=""
ports=[]
privileged=false
profiles=[]
project="stack7"
pull_policy=""
read_only=false
restart="unless-stopped"
secrets=[]
security_opt=[]
shm_size=0
stdin_open=false
stop_grace_period=null
stop_signal=""
sysctls={}
tmpfs=[]
tty=false
ulimits={}
user=""
userns_mode=""
volumes=[]
working_dir=""
fingerprint 1a66ee9849096bc0dafb064de9e6c16debdc1cc6a3d52a32755698c45f2851ab
== stack7/db
build=null
cap_add=[]
cap_drop=[]
command=null
configs=[]
container_name=""
cpu_shares=0
cpus=0
depends_on={}
deploy={"limits":{"cpus":0,"memory":0,"pids":0},"reservations":{"cpus":0,"memory":0,"pids":0}}
devices=[]
dns=[]
dns_opt=[]
dns_search=[]
domainname=""
entrypoint=null
environment={3}
environment.GREETING="hello"
environment.PORT="20007"
environment.TAG="1.2"
expose=[]
extra_hosts=[]
file services/stack7/.env=env_file c19568b964bed97f0aa5394014f922f64a0ae97960d253f190295fd8c6bf6973
group_add=[]
healthcheck=null
hostname=""
image="localhost/bb:1"
init=true
ipc=""
labels={0}
links=[]
logging=null
mem_limit=0
mem_reservation=0
memswap_limit=0
name="db"
network default={"driver":"","driver_opts":{},"enable_ipv6":false,"external":false,"internal":false,"labels":{},"name":"stack7_default"}
network_mode=""
networks=["default"]
networks.default={"aliases":[],"ipv4_address":"","ipv6_address":"","priority":null}
pid=""
pids_limit=0
platform=""
ports=[]
privileged=false
profiles=[]
project="stack7"
pull_policy=""
read_only=false
restart="unless-stopped"
secrets=[]
security_opt=[]
shm_size=0
stdin_open=false
stop_grace_period=null
stop_signal=""
sysctls={}
tmpfs=[]
tty=false
ulimits={}
user=""
userns_mode=""
volume data={"driver":"","driver_opts":{},"external":false,"labels":{},"name":"stack7_data"}
volumes=[{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":false,"repo_path":"","selinux":"","source":"data","subpath":"","target":"/data","tmpfs_mode":null,"tmpfs_size":0,"type":"volume"}]
working_dir=""
fingerprint bb4322976ee2ec6132dc3d26939b753780e2ee5237c79946464df42fc94116d6
== stack7/web
build=null
cap_add=[]
cap_drop=[]
command=null
configs=[]
container_name=""
cpu_shares=0
cpus=0
depends_on={"api":{"condition":"service_healthy","required":true,"restart":false}}
deploy={"limits":{"cpus":0,"memory":0,"pids":0},"reservations":{"cpus":0,"memory":0,"pids":0}}
devices=[]
dns=[]
dns_opt=[]
dns_search=[]
domainname=""
entrypoint=null
environment={2}
environment.GREETING="hello"
environment.STACK="stack7"
expose=[]
extra_hosts=[]
file services/stack7/conf.d=bind_dir 475f0e99e1e2bd5ee50f8de0aaa975f48f65ec07e0ab62e968220ffcdeda7dc7
file services/stack7/nginx.conf=bind_file 989a8fd37b3945f5945d82b8d5839c0cf4c2e71b9aca91d316ba264ce781c8df
group_add=[]
healthcheck=null
hostname=""
image="localhost/bb:1.2"
init=true
ipc=""
labels={0}
links=[]
logging=null
mem_limit=0
mem_reservation=0
memswap_limit=0
name="web"
network default={"driver":"","driver_opts":{},"enable_ipv6":false,"external":false,"internal":false,"labels":{},"name":"stack7_default"}
network_mode=""
networks=["default"]
networks.default={"aliases":[],"ipv4_address":"","ipv6_address":"","priority":null}
pid=""
pids_limit=0
platform=""
ports=[{"app_protocol":"","host_ip":"127.0.0.1","mode":"","name":"","protocol":"tcp","published":[20007,20007],"target":[80,80]}]
privileged=false
profiles=[]
project="stack7"
pull_policy=""
read_only=false
restart="unless-stopped"
secrets=[]
security_opt=[]
shm_size=0
stdin_open=false
stop_grace_period=null
stop_signal=""
sysctls={}
tmpfs=[]
tty=false
ulimits={}
user=""
userns_mode=""
volumes=[{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":true,"repo_path":"services/stack7/nginx.conf","selinux":"","source":"<repo>/services/stack7/nginx.conf","subpath":"","target":"/etc/nginx.conf","tmpfs_mode":null,"tmpfs_size":0,"type":"bind"},{"chown":false,"create_host_path":true,"nocopy":false,"propagation":"","read_only":true,"repo_path":"services/stack7/conf.d","selinux":"","source":"<repo>/services/stack7/conf.d","subpath":"","target":"/etc/conf.d","tmpfs_mode":null,"tmpfs_size":0,"type":"bind"}]
working_dir=""
fingerprint 3d52a193fdf086bf24e30fdf466ee9521839b9a71b679dd4236e2a6ec331c714
)golden";

}  // namespace podcd::test
