// Package capture moves SIP between packet captures and siplens' call records: it writes
// a recorded call as a pcap file that Wireshark opens (WritePCAP), and reads pcap, pcapng,
// HEP, text logs and siplens' own trace export back into messages for offline analysis.
package capture
