package ua

import (
	"net"
	"sync"
	"sync/atomic"
)

// rtpSink is the UDP port a call offers for audio. siplens plays no sound: it counts the
// RTP packets that arrive, which tells whether media (or early media) really flows.
type rtpSink struct {
	conn    *net.UDPConn
	packets atomic.Int64
	from    atomic.Pointer[string]
	wg      sync.WaitGroup
}

func newRTPSink(ip string) (*rtpSink, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		return nil, err
	}
	s := &rtpSink{conn: c}
	s.wg.Add(1)
	go s.read()
	return s, nil
}

func (s *rtpSink) read() {
	defer s.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, from, err := s.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if n >= 12 && buf[0]>>6 == 2 { // RTP version 2
			if s.packets.Add(1) == 1 {
				a := from.String()
				s.from.Store(&a)
			}
		}
	}
}

// Port is the local UDP port.
func (s *rtpSink) Port() int { return s.conn.LocalAddr().(*net.UDPAddr).Port }

// Packets is the number of RTP packets received so far.
func (s *rtpSink) Packets() int64 { return s.packets.Load() }

// From is the source of the first RTP packet, or "".
func (s *rtpSink) From() string {
	if p := s.from.Load(); p != nil {
		return *p
	}
	return ""
}

func (s *rtpSink) Close() {
	s.conn.Close()
	s.wg.Wait()
}
