// The language client's life: find the server, start it, restart it, forward what it pushes.
// Everything else (status bar, dashboard, API) talks to the server through a UsageSession.

import * as os from "os";
import * as vscode from "vscode";
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  type ErrorHandler,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  TransportKind,
} from "vscode-languageclient/node";
import type { UsageChange } from "./protocol";
import { findServer, type ServerCommand } from "./serverCommand";
import { defaultUser } from "./defaults";

export type SessionState = "starting" | "running" | "missing" | "failed" | "stopped";

/** Logs what went wrong but never pops up: UsageSession decides what the user is told, once. */
class QuietLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown): void {
    super.error(message, data, false);
  }

  // The server advertises commands for editors without a client of their own
  // (usage-ls.openDashboard, .showToday, .showModel, .record: docs/editors.md). Here the
  // extension registers those names itself (the dashboard in a panel rather than a browser);
  // the language client's own registration of them would collide and fail the start.
  override registerFeature(feature: Parameters<LanguageClient["registerFeature"]>[0]): void {
    const method = (feature as { registrationType?: { method?: string } }).registrationType?.method;
    if (method === "workspace/executeCommand") {
      return;
    }
    super.registerFeature(feature);
  }
}

const RESTARTS_ALLOWED = 3; // crashes within RESTART_WINDOW_MS before we give up and say so
const RESTART_WINDOW_MS = 3 * 60_000;

export class UsageSession implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private _state: SessionState = "stopped";
  private crashes: number[] = [];
  private installHelpShown = false;
  private failureShown = false;
  private restartExpected = false; // the crash handler asked the client to restart itself
  /** Why the server is not running, for messages and the status bar tooltip. */
  problem = "";
  server: ServerCommand | undefined;

  private readonly changeEmitter = new vscode.EventEmitter<UsageChange>();
  private readonly stateEmitter = new vscode.EventEmitter<SessionState>();
  /** `usage/didChange` from the server: records changed (any process on the data dir). */
  readonly onDidChange = this.changeEmitter.event;
  readonly onDidChangeState = this.stateEmitter.event;

  constructor(readonly log: vscode.LogOutputChannel) {}

  get state(): SessionState {
    return this._state;
  }

  private setState(state: SessionState): void {
    this._state = state;
    this.stateEmitter.fire(state);
  }

  /** Starts the server unless it is running or starting; resolves to the client or undefined. */
  start(): Promise<LanguageClient | undefined> {
    if (this.client && this._state === "running") {
      return Promise.resolve(this.client);
    }
    if (!this.starting) {
      this.starting = this.doStart().finally(() => {
        this.starting = undefined;
      });
    }
    return this.starting;
  }

  async restart(): Promise<LanguageClient | undefined> {
    await this.starting;
    await this.stop();
    this.crashes = [];
    this.installHelpShown = false;
    this.failureShown = false;
    return this.start();
  }

  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        await client.stop(3000);
      } catch (err) {
        this.log.warn(`stopping usage-ls: ${String(err)}`);
      }
    }
    this.setState("stopped");
  }

  /** Sends a request once the server runs; rejects with a readable message when it cannot run. */
  async request<R>(method: string, params: unknown): Promise<R> {
    const client = this.client && this._state === "running" ? this.client : await this.start();
    if (!client) {
      throw new Error(this.problem || "the usage-ls server is not running");
    }
    return client.sendRequest<R>(method, params);
  }

  private async doStart(): Promise<LanguageClient | undefined> {
    this.setState("starting");
    const lookup = await findServer(this.log);
    if (!lookup.found) {
      this.server = undefined;
      this.problem = lookup.settingProblem
        ? `${lookup.settingProblem}.`
        : `usage-ls is not installed where VS Code can find it (looked in ${lookup.searched.join(", ")}).`;
      this.log.error(this.problem);
      this.setState("missing");
      this.offerInstallHelp();
      return undefined;
    }
    this.server = lookup.found;
    this.log.info(`starting ${lookup.found.command} ${lookup.found.args.join(" ")} --stdio (found via ${lookup.found.source})`);

    const cfg = vscode.workspace.getConfiguration("usage-ls");
    const initializationOptions: Record<string, string> = {};
    const dataDir = cfg.get<string>("dataDir", "").trim();
    if (dataDir) {
      initializationOptions.dataDir = dataDir.replace(/^~(?=$|[\\/])/, os.homedir());
    }
    // unset: the server takes the workspace folder's name and its configured user
    const project = cfg.get<string>("project", "").trim();
    if (project) {
      initializationOptions.project = project;
    }
    const user = defaultUser();
    if (user) {
      initializationOptions.user = user;
    }

    const serverOptions: ServerOptions = {
      command: lookup.found.command,
      args: lookup.found.args,
      transport: TransportKind.stdio,
      options: { env: { ...process.env } },
    };
    const clientOptions: LanguageClientOptions = {
      // hovers over model names in any file on disk or unsaved
      documentSelector: [{ scheme: "file" }, { scheme: "untitled" }],
      initializationOptions,
      outputChannel: this.log,
      errorHandler: this.errorHandler(),
      initializationFailedHandler: () => false, // no popup of its own: start() rejects, fail() tells

    };
    const client = new QuietLanguageClient("usage-ls", "usage-ls", serverOptions, clientOptions);
    client.onNotification("usage/didChange", (params: UsageChange) => this.changeEmitter.fire(params));
    client.onDidChangeState(({ oldState, newState }) => {
      if (newState === State.Running) {
        this.restartExpected = false;
      } else if (newState === State.Stopped && this.client === client) {
        // a restart the client did by itself failed, or it stopped without asking us
        if (oldState === State.Starting || !this.restartExpected) {
          this.fail(`the usage-ls server (${lookup.found?.command}) stopped and could not be restarted`);
        }
      }
    });
    try {
      await client.start();
    } catch (err) {
      this.fail(`the usage-ls server (${lookup.found.command}) failed to start: ${errorMessage(err)}`);
      return undefined;
    }
    this.client = client;
    this.problem = "";
    this.setState("running");
    return client;
  }

  private fail(problem: string): void {
    this.client = undefined;
    this.problem = problem;
    this.log.error(problem);
    this.setState("failed");
    this.offerFailureHelp();
  }

  /** Restart after a crash a few times; then stop, say so once, and leave the rest to the user. */
  private errorHandler(): ErrorHandler {
    return {
      error: () => ({ action: ErrorAction.Continue, handled: true }),
      closed: () => {
        if (this._state !== "running") {
          return { action: CloseAction.DoNotRestart, handled: true };
        }
        const now = Date.now();
        this.crashes = this.crashes.filter((t) => now - t < RESTART_WINDOW_MS);
        this.crashes.push(now);
        if (this.crashes.length <= RESTARTS_ALLOWED) {
          this.log.warn(`the usage-ls server stopped; restarting (${this.crashes.length}/${RESTARTS_ALLOWED})`);
          this.restartExpected = true;
          return { action: CloseAction.Restart, handled: true };
        }
        this.fail(`the usage-ls server stopped ${this.crashes.length} times in 3 minutes and was not restarted`);
        return { action: CloseAction.DoNotRestart, handled: true };
      },
    };
  }

  /** One notification per problem: what to install and how, never a repeated popup. */
  offerInstallHelp(force = false): void {
    if (this.installHelpShown && !force) {
      return;
    }
    this.installHelpShown = true;
    const install = "How to Install";
    const settings = "Set Server Command";
    void vscode.window
      .showWarningMessage(
        `AI Usage: ${this.problem} Install it with "pipx install usage-ls" (or "pip install usage-ls" in your Python environment), or set "usage-ls.server.command" to its path.`,
        install,
        settings,
      )
      .then((choice) => {
        if (choice === install) {
          void vscode.commands.executeCommand("usage-ls.showInstallHelp");
        } else if (choice === settings) {
          void vscode.commands.executeCommand("workbench.action.openSettings", "usage-ls.server");
        }
      });
  }

  private offerFailureHelp(): void {
    if (this.failureShown) {
      return;
    }
    this.failureShown = true;
    const showLog = "Show Log";
    const restart = "Restart";
    void vscode.window.showErrorMessage(`AI Usage: ${this.problem}.`, showLog, restart).then((choice) => {
      if (choice === showLog) {
        this.log.show(true);
      } else if (choice === restart) {
        void vscode.commands.executeCommand("usage-ls.restartServer");
      }
    });
  }

  dispose(): void {
    void this.stop();
    this.changeEmitter.dispose();
    this.stateEmitter.dispose();
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    return err.message;
  }
  if (err && typeof err === "object" && "message" in err) {
    return String((err as { message: unknown }).message);
  }
  return String(err);
}
