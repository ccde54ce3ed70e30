package cli

import (
	"fmt"
	"io"
	"strconv"

	"github.com/siplens/siplens/codes"
)

func runExplain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("explain", "explain CODE [CODE] | explain --list", stderr)
	list := fs.Bool("list", false, "print every registered response code")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if *list {
		if err := codes.WriteTable(stdout); err != nil {
			return errorf(stderr, "%v", err)
		}
		return 0
	}
	var nums []int
	for _, a := range fs.Args() {
		n, err := strconv.Atoi(a)
		if err != nil {
			return errorf(stderr, "%q is not a response code (a number such as 480)", a)
		}
		nums = append(nums, n)
	}
	switch len(nums) {
	case 1:
		if err := codes.WriteText(stdout, codes.Lookup(nums[0])); err != nil {
			return errorf(stderr, "%v", err)
		}
	case 2:
		if err := codes.WriteComparison(stdout, codes.Lookup(nums[0]), codes.Lookup(nums[1])); err != nil {
			return errorf(stderr, "%v", err)
		}
	default:
		fmt.Fprintln(stderr, "Usage: siplens explain CODE [CODE] | siplens explain --list")
		return 2
	}
	return 0
}
