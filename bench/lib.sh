# bench/lib.sh: shell helpers shared by bench/run, bench/soak and bench/regmem (sourced).

# free_port: a UDP port on 127.0.0.1 that nothing holds now (never 5060).
free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# cpu_ticks PGID: user+system clock ticks of every process in the group.
cpu_ticks() { local t=0; for p in $(pgrep -g "$1" || true); do t=$((t + $(awk '{print $14+$15}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }
# peak_kb PGID: the sum of the processes' peak resident set (VmHWM).
peak_kb() { local m=0; for p in $(pgrep -g "$1" || true); do m=$((m + $(awk '/VmHWM/{print $2}' /proc/$p/status 2>/dev/null || echo 0))); done; echo $m; }
# rss_kb PID: the process's resident set now.
rss_kb() { awk '/VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# go_heap_kb PPROF_ADDR [gc]: the Go heap in use (HeapInuse) of a siplens started with
# SIPLENS_PPROF=PPROF_ADDR; with gc, after a collection.
go_heap_kb() {
  local q=""; [ "${2:-}" = gc ] && q="&gc=1"
  curl -s "http://$1/debug/pprof/heap?debug=1$q" | awk '/^# HeapInuse =/{print int($4/1024)}'
}
# wait_udp PORT: wait up to 5 s for something to listen on 127.0.0.1:PORT/udp.
wait_udp() { for _ in $(seq 50); do ss -lun | grep -q "127.0.0.1:$1 " && return 0; sleep 0.1; done; return 1; }
