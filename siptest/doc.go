// Package siptest is the test kit for driving external SIP tools (SIPp
// first of all) against a SIP server listening on loopback.
//
// Rules it enforces (project standards):
//
//   - Everything happens on 127.0.0.1, on ports picked free at run time
//     (FreePort, FreePorts); 5060 is never used.
//   - Every process is bounded in time (sipp -timeout with -timeout_error,
//     plus a context deadline) and is stopped by its PID only.
//   - A missing tool fails the test loudly (RequireTool), it never skips.
//   - SIPp runs in a fresh t.TempDir(), where it writes its logs.
//
// Typical use against the server under test:
//
//	res := siptest.SIPp{
//		Scenario:  siptest.Scenario(t, "register_auth.xml"),
//		Target:    srvAddr,             // "127.0.0.1:PORT"
//		Transport: "udp",
//		Service:   "alice",
//		Auth:      siptest.Auth{Password: "secret"},
//		Vars:      map[string]string{"domain": "example.com"},
//	}.Run(t)
//	res.RequireOK(t) // on failure prints exit code, counts, flow, trace
//
// A callee that must stay up while a caller runs is started in the
// background with Start; it is stopped (SIGTERM, then SIGKILL) by PID when
// the test ends, or explicitly with Process.Stop / Process.Wait.
package siptest
