// The moat.dev/allow-ingress|egress grammar (DESIGN.md § Policy model 2), parsed by hand so every error
// carries the offset of the offending character:
//   value := rule (';' rule)*          rule := PORTS [ ('from'|'to') PEER+ ]
//   PORTS := '*' | PORT (',' PORT)*    PORT := proto '/' ( N | N '-' N | name | '*' )
//   PEER  := 'any' | 'pod:' SEL | 'ns:' NAME ['/pod:' SEL] | 'nslabel:' SEL ['/pod:' SEL] | 'cidr:' CIDR ('!' CIDR)*
//   SEL   := '*' | KEY '=' VALUE ('&' KEY '=' VALUE)*
// Whitespace is allowed around ';', ',' and between peers. `proto/*` (every port of a protocol) is a
// moat extension mirroring a NetworkPolicy port with only a protocol.
import type { Direction, LabelSelector, Peer, PolicyPort, Protocol, Rule } from './model.js';
import { MATCH_EVERYTHING } from './selectors.js';
import { dns1123LabelProblems, labelValueProblems, portNameProblems, qualifiedNameProblems } from './k8s-syntax.js';
import { cidrContainsCidr, formatCidr, IpSyntaxError, parseCidr, type Cidr } from './ip.js';

export class AllowlistSyntaxError extends Error {
  override readonly name = 'AllowlistSyntaxError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const PROTOCOLS: Readonly<Record<string, Protocol>> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' };
const PEER_KINDS = "'any', 'pod:', 'ns:', 'nslabel:' or 'cidr:'";

type ParsedPeer = Peer | 'any';

class AllowlistScanner {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly direction: Direction,
  ) {}

  private get keyword(): string {
    return this.direction === 'ingress' ? 'from' : 'to';
  }

  private fail(message: string, offset = this.pos): never {
    throw new AllowlistSyntaxError(message, offset);
  }

  private peek(): string | undefined {
    return this.text[this.pos];
  }

  private found(): string {
    const char = this.peek();
    return char === undefined ? 'end of value' : `'${char}'`;
  }

  private readWhile(pattern: RegExp): string {
    const start = this.pos;
    while (this.pos < this.text.length && pattern.test(this.text[this.pos] as string)) this.pos++;
    return this.text.slice(start, this.pos);
  }

  private skipSpaces(): void {
    this.readWhile(/\s/);
  }

  private atRuleEnd(): boolean {
    const char = this.peek();
    return char === undefined || char === ';';
  }

  /** A token must end at whitespace, ';', end, or one of `also`. */
  private expectBoundary(what: string, also = ''): void {
    const char = this.peek();
    if (char !== undefined && char !== ';' && !/\s/.test(char) && !also.includes(char)) this.fail(`unexpected ${this.found()} after ${what}`);
  }

  private expectLiteral(literal: string, context: string): void {
    if (!this.text.startsWith(literal, this.pos)) this.fail(`expected '${literal}' ${context}, found ${this.found()}`);
    this.pos += literal.length;
  }

  parse(): Rule[] {
    const rules: Rule[] = [];
    for (;;) {
      this.skipSpaces();
      const char = this.peek();
      if (char === undefined) return rules;
      if (char === ';') {
        this.pos++;
        continue;
      }
      rules.push(this.rule());
    }
  }

  private rule(): Rule {
    const ports = this.ports();
    this.skipSpaces();
    if (this.atRuleEnd()) return { peers: [], ports };
    const wordStart = this.pos;
    const word = this.readWhile(/[A-Za-z]/);
    if (word !== this.keyword) {
      const other = this.direction === 'ingress' ? 'to' : 'from';
      if (word === other) this.fail(`'${other}' belongs in allow-${this.direction === 'ingress' ? 'egress' : 'ingress'}; allow-${this.direction} takes '${this.keyword}'`, wordStart);
      this.pos = wordStart;
      this.fail(`expected ',', '${this.keyword}', ';' or end of value, found ${this.found()}`);
    }
    this.expectBoundary(`'${this.keyword}'`);
    const peers: ParsedPeer[] = [];
    for (;;) {
      this.skipSpaces();
      if (this.atRuleEnd()) break;
      peers.push(this.peer());
    }
    if (peers.length === 0) this.fail(`expected a peer (${PEER_KINDS}) after '${this.keyword}'`);
    return { peers: peers.includes('any') ? [] : (peers as Peer[]), ports };
  }

  private ports(): PolicyPort[] {
    this.skipSpaces();
    if (this.peek() === '*') {
      this.pos++;
      this.expectBoundary("'*'");
      return [];
    }
    const ports: PolicyPort[] = [];
    for (;;) {
      ports.push(this.port());
      this.skipSpaces();
      if (this.peek() !== ',') return ports;
      this.pos++;
      this.skipSpaces();
    }
  }

  private portNumber(): number {
    const start = this.pos;
    const digits = this.readWhile(/[0-9]/);
    const value = Number(digits);
    if (digits === '' || value < 1 || value > 65535) this.fail(`port must be a number 1-65535`, start);
    return value;
  }

  private port(): PolicyPort {
    const start = this.pos;
    const name = this.readWhile(/[A-Za-z]/);
    if (name === '') this.fail(`expected '*' or a port such as tcp/80, found ${this.found()}`);
    const protocol = PROTOCOLS[name.toLowerCase()];
    if (protocol === undefined) this.fail(`unknown protocol '${name}': use tcp, udp or sctp`, start);
    this.expectLiteral('/', `after '${name}'`);
    let port: PolicyPort;
    if (this.peek() === '*') {
      this.pos++;
      port = { protocol };
    } else if (/[0-9]/.test(this.peek() ?? '')) {
      const first = this.portNumber();
      port = { protocol, port: first };
      if (this.peek() === '-') {
        this.pos++;
        const endStart = this.pos;
        const endPort = this.portNumber();
        if (endPort < first) this.fail(`range end ${endPort} is below its start ${first}`, endStart);
        port = { protocol, port: first, endPort };
      }
    } else {
      const nameStart = this.pos;
      const portName = this.readWhile(/[A-Za-z0-9-]/);
      if (portName === '') this.fail(`expected a port number, range, name or '*', found ${this.found()}`);
      const problem = portNameProblems(portName)[0];
      if (problem !== undefined) this.fail(`port name '${portName}' ${problem}`, nameStart);
      port = { protocol, port: portName };
    }
    this.expectBoundary('the port', ',');
    return port;
  }

  private peer(): ParsedPeer {
    const start = this.pos;
    const kind = this.readWhile(/[a-z]/);
    if (kind === 'any') {
      this.expectBoundary("'any'");
      return 'any';
    }
    if (this.peek() !== ':' || !['pod', 'ns', 'nslabel', 'cidr'].includes(kind)) {
      this.pos = start;
      this.fail(`expected a peer (${PEER_KINDS}), found ${this.found()}`);
    }
    this.pos++;
    let peer: Peer;
    switch (kind) {
      case 'pod':
        peer = { kind: 'pods', podSelector: this.selector() };
        break;
      case 'ns': {
        const nameStart = this.pos;
        const name = this.readWhile(/[A-Za-z0-9_.-]/);
        if (name === '') this.fail(`expected a namespace name, found ${this.found()}`);
        const problem = dns1123LabelProblems(name)[0];
        if (problem !== undefined) this.fail(`namespace name '${name}': ${problem}`, nameStart);
        const podSelector = this.optionalPodPart();
        peer = { kind: 'pods', namespaceNames: [name], ...(podSelector && { podSelector }) };
        break;
      }
      case 'nslabel': {
        const namespaceSelector = this.selector();
        const podSelector = this.optionalPodPart();
        peer = { kind: 'pods', namespaceSelector, ...(podSelector && { podSelector }) };
        break;
      }
      default:
        peer = { kind: 'ipBlock', ipBlock: this.ipBlock() };
    }
    this.expectBoundary('the peer');
    return peer;
  }

  private optionalPodPart(): LabelSelector | undefined {
    if (this.peek() !== '/') return undefined;
    this.pos++;
    this.expectLiteral('pod:', "after '/'");
    return this.selector();
  }

  private selector(): LabelSelector {
    if (this.peek() === '*') {
      this.pos++;
      return MATCH_EVERYTHING;
    }
    const matchLabels: Record<string, string> = {};
    for (;;) {
      const keyStart = this.pos;
      const key = this.readWhile(/[A-Za-z0-9._/-]/);
      if (key === '') this.fail(`expected a label key or '*', found ${this.found()}`);
      const keyProblem = qualifiedNameProblems(key)[0];
      if (keyProblem !== undefined) this.fail(`label key '${key}': ${keyProblem}`, keyStart);
      if (Object.hasOwn(matchLabels, key)) this.fail(`label key '${key}' repeated`, keyStart);
      this.expectLiteral('=', `after label key '${key}'`);
      const valueStart = this.pos;
      const value = this.readWhile(/[A-Za-z0-9._-]/);
      const valueProblem = labelValueProblems(value)[0];
      if (valueProblem !== undefined) this.fail(`label value '${value}': ${valueProblem}`, valueStart);
      matchLabels[key] = value;
      if (this.peek() !== '&') return { matchLabels, matchExpressions: [] };
      this.pos++;
    }
  }

  private cidr(): Cidr {
    const start = this.pos;
    const text = this.readWhile(/[0-9A-Fa-f.:/]/);
    if (text === '') this.fail(`expected a CIDR such as 10.0.0.0/8, found ${this.found()}`);
    try {
      return parseCidr(text);
    } catch (error) {
      if (error instanceof IpSyntaxError) this.fail(error.message, start);
      throw error;
    }
  }

  private ipBlock(): { cidr: string; except: string[] } {
    const outer = this.cidr();
    const except: string[] = [];
    while (this.peek() === '!') {
      this.pos++;
      const start = this.pos;
      const inner = this.cidr();
      if (!cidrContainsCidr(outer, inner) || inner.prefixLength === outer.prefixLength) {
        this.fail(`except ${formatCidr(inner)} must be strictly inside ${formatCidr(outer)}`, start);
      }
      except.push(formatCidr(inner));
    }
    return { cidr: formatCidr(outer), except };
  }
}

/** Parses an allowlist annotation value; throws AllowlistSyntaxError with the offending offset. */
export function parseAllowlist(text: string, direction: Direction): Rule[] {
  return new AllowlistScanner(text, direction).parse();
}

/** "key: message (offset N)" followed by the value and a caret under the offending character. */
export function renderAllowlistError(key: string, text: string, error: AllowlistSyntaxError): string {
  const flat = text.replace(/\s/g, ' ');
  return `${key}: ${error.message} (offset ${error.offset})\n  ${flat}\n  ${' '.repeat(error.offset)}^`;
}
