//go:build tools

// Package tools pins the kwok controller the kates test control plane runs.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
