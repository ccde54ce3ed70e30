package codes

import (
	"strconv"
	"strings"
	"testing"
)

// confusedPairs are the pairs that must have a hand-written explanation.
var confusedPairs = [][2]int{
	{480, 486}, {486, 600}, {603, 486}, {404, 480}, {401, 407}, {403, 401},
	{408, 480}, {487, 408}, {488, 606}, {500, 503}, {503, 504}, {302, 301},
	{488, 415}, {482, 483}, {600, 603}, {404, 410}, {484, 404},
}

func TestDifferenceHandWrittenPairs(t *testing.T) {
	for _, pair := range confusedPairs {
		a, b := pair[0], pair[1]
		ab, ba := Difference(a, b), Difference(b, a)
		if ab == "" || ba == "" {
			t.Errorf("Difference(%d, %d) or its reverse is empty", a, b)
		}
		if ab != ba {
			t.Errorf("Difference(%d, %d) differs from Difference(%d, %d)", a, b, b, a)
		}
		if _, ok := pairDifferences[pairOf(a, b)]; !ok {
			t.Errorf("no hand-written text for %d/%d", a, b)
		}
	}
}

func TestHandWrittenTextsNameBothCodes(t *testing.T) {
	for pair, text := range pairDifferences {
		for _, code := range []int{pair.low, pair.high} {
			if _, ok := byCode[code]; !ok {
				t.Errorf("pair %d/%d uses unregistered code %d", pair.low, pair.high, code)
			}
			if !strings.Contains(text, strconv.Itoa(code)) {
				t.Errorf("text for %d/%d does not mention %d", pair.low, pair.high, code)
			}
		}
		checkProse(t, "difference "+strconv.Itoa(pair.low)+"/"+strconv.Itoa(pair.high), text)
	}
}

func TestDifferenceGenerated(t *testing.T) {
	tests := []struct {
		a, b int
		want string
	}{
		{413, 414, "both client error responses (4xx)"},
		{100, 608, "belong to different classes"},
		{200, 499, "belong to different classes"},
		{180, 800, "not a valid SIP response code"},
	}
	for _, tt := range tests {
		ab, ba := Difference(tt.a, tt.b), Difference(tt.b, tt.a)
		for _, text := range []string{ab, ba} {
			if !strings.Contains(text, tt.want) {
				t.Errorf("Difference(%d, %d) = %q, want it to contain %q", tt.a, tt.b, text, tt.want)
			}
			for _, code := range []int{tt.a, tt.b} {
				if !strings.Contains(text, strconv.Itoa(code)) {
					t.Errorf("Difference(%d, %d) does not mention %d", tt.a, tt.b, code)
				}
			}
		}
	}
}

func TestDifferenceSameCode(t *testing.T) {
	if got := Difference(486, 486); !strings.Contains(got, "same code") {
		t.Errorf("Difference(486, 486) = %q", got)
	}
}
