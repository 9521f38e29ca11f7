// Shows what `stack up` is doing: a bar per service on a terminal, log lines otherwise.
import cliProgress from 'cli-progress';
import type { Logger } from '../../core/logger.ts';
// The stack starts exporters too: its services are named by StackServiceName.
import type { StackServiceName as ServiceName } from '../../core/services.ts';

export type StackPhase = 'queued' | 'installing' | 'starting' | 'ready' | 'reused' | 'failed';

const PHASE_STEP: Record<StackPhase, number> = {
  queued: 0,
  installing: 1,
  starting: 2,
  ready: 3,
  reused: 3,
  failed: 3,
};

export interface StackProgress {
  update(service: ServiceName, phase: StackPhase, detail?: string): void;
  /** New detail for the service's current phase. */
  detail(service: ServiceName, detail: string): void;
  stop(): void;
}

export function createStackProgress(
  services: readonly ServiceName[],
  log: Logger,
  tty = process.stderr.isTTY,
): StackProgress {
  return tty ? new TerminalProgress(services) : new LogProgress(log);
}

class TerminalProgress implements StackProgress {
  private readonly multibar: cliProgress.MultiBar;
  private readonly bars = new Map<ServiceName, cliProgress.SingleBar>();
  private readonly started = Date.now();
  private readonly timer: NodeJS.Timeout;
  private readonly latest = new Map<ServiceName, { phase: StackPhase; detail: string }>();

  constructor(services: readonly ServiceName[]) {
    this.multibar = new cliProgress.MultiBar(
      {
        format: ' {service} {bar} {phase} {detail}',
        barsize: 12,
        hideCursor: true,
        clearOnComplete: false,
        stream: process.stderr,
        barCompleteChar: '█',
        barIncompleteChar: '░',
      },
      cliProgress.Presets.shades_classic,
    );
    const width = Math.max(...services.map((s) => s.length));
    for (const service of services) {
      this.bars.set(
        service,
        this.multibar.create(3, 0, { service: service.padEnd(width), phase: 'queued', detail: '' }),
      );
      this.latest.set(service, { phase: 'queued', detail: '' });
    }
    this.timer = setInterval(() => this.redraw(), 1_000);
  }

  update(service: ServiceName, phase: StackPhase, detail = ''): void {
    this.latest.set(service, { phase, detail });
    this.redraw();
  }

  detail(service: ServiceName, detail: string): void {
    this.update(service, this.latest.get(service)?.phase ?? 'installing', detail);
  }

  private redraw(): void {
    const elapsed = `${Math.round((Date.now() - this.started) / 1000)}s`;
    for (const [service, { phase, detail }] of this.latest) {
      const done = phase === 'ready' || phase === 'reused' || phase === 'failed';
      this.bars.get(service)?.update(PHASE_STEP[phase], {
        phase: phase.padEnd(10),
        detail: done ? detail : `${detail} ${elapsed}`.trim(),
      });
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.redraw();
    this.multibar.stop();
  }
}

class LogProgress implements StackProgress {
  private readonly log: Logger;
  private readonly lastDetailAt = new Map<ServiceName, number>();
  private readonly lastPhase = new Map<ServiceName, StackPhase>();

  constructor(log: Logger) {
    this.log = log.child({ component: 'stack.progress' });
  }

  update(service: ServiceName, phase: StackPhase, detail = ''): void {
    const now = Date.now();
    // Phase changes always log; detail updates at most every 10 s per service.
    if (
      this.lastPhase.get(service) === phase &&
      now - (this.lastDetailAt.get(service) ?? 0) < 10_000
    )
      return;
    this.lastPhase.set(service, phase);
    this.lastDetailAt.set(service, now);
    this.log.info(
      { service, phase, detail },
      `${service}: ${phase}${detail ? ` (${detail})` : ''}`,
    );
  }

  detail(service: ServiceName, detail: string): void {
    this.update(service, this.lastPhase.get(service) ?? 'installing', detail);
  }

  stop(): void {}
}
