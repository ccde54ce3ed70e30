// Command siplens is a SIP registrar and proxy that explains every call.
package main

import (
	"os"

	"github.com/siplens/siplens/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
