package main

import (
	"context"
	"io"

	"github.com/nimbusflow/connector/handler/sim"
)

// runSim wires `handler sim`: the Nimbus core simulator.
func runSim(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sec := sim.Secrets{ClientSecret: getenv("NIMBUS_SIM_CLIENT_SECRET"), FunctionKey: getenv("NIMBUS_SIM_FUNCTION_KEY")}
	return sim.Main(ctx, args, sec, stdout, stderr)
}
