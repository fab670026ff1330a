// Command duetprof is duet with a CPU profile of its whole process, for startbench -profile:
// the same wiring as duet's main (cli.Run with the XDG directories and the standard streams),
// with the profile started before cli.Run and written at SIGUSR1 (startbench sends it at the
// first frame) or when cli.Run returns. It lives in the test
// kit so that the duet binary never carries a profiler switch.
//
//	DUETPROF_CPU=cpu.pprof duetprof [duet's arguments]
//
// Without DUETPROF_CPU it is plain duet. Package initialisation runs before main and so is
// not in the profile: GODEBUG=inittrace=1 shows it.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"duet/internal/cli"
	"duet/internal/paths"
)

func main() {
	os.Exit(run())
}

func run() int {
	if out := os.Getenv("DUETPROF_CPU"); out != "" {
		f, err := os.Create(out)
		if err != nil {
			fmt.Fprintln(os.Stderr, "duetprof:", err)
			return 1
		}
		defer f.Close()
		// 1,000 samples a second, not pprof's 100: a start is a few tens of milliseconds. The
		// rate set first wins; StartCPUProfile then says on stderr that it could not set its
		// own, before the UI starts.
		runtime.SetCPUProfileRate(1000)
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "duetprof:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
		// startbench says when the first frame is drawn: the profile ends there.
		first := make(chan os.Signal, 1)
		signal.Notify(first, syscall.SIGUSR1)
		go func() {
			<-first
			pprof.StopCPUProfile()
		}()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	env := cli.Env{Dirs: paths.FromXDG(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	return cli.Run(ctx, env, os.Args[1:])
}
