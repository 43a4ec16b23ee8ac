/** `callgate config check` and how every command reports a bad configuration. */
import { existsSync } from 'node:fs';
import { BASE_CONFIG, CALLEE, CALLER, sandbox } from './helpers';

const BROKEN = `
store:
  driver: sqlite
  path: ./callgate.db
professionals:
  - id: acme
campaigns:
  - id: energy
    professional: nobody
    dialing: sometimes
policy:
  maxAttemps: 3
`;

describe('callgate config check', () => {
  it('prints OK and a summary for a valid file', () => {
    const sb = sandbox();
    try {
      const r = sb.run(['config', 'check']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^OK /);
      expect(r.stdout).toMatch(/professionals: acme, other-pro/);
      expect(r.stdout).toMatch(/campaigns: energy, news \(default: energy/);
      expect(r.stdout).toMatch(
        /store: sqlite \.\/callgate\.db, durability full \(each COMMIT synced to disk: survives a power cut\)\n/,
      );
    } finally {
      sb.cleanup();
    }
  });

  it('never prints the password of a URL with credentials (asterisk.url)', () => {
    const sb = sandbox(
      BASE_CONFIG +
        'asterisk:\n  url: http://callgate:hunter2@127.0.0.1:8088\n  username: callgate\n  password: other\n  allowContext: out\n',
    );
    try {
      const r = sb.run(['config', 'check']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/pbx: asterisk http:\/\/callgate:\*\*\*@127\.0\.0\.1:8088/);
      expect(r.stdout + r.stderr).not.toContain('hunter2');
    } finally {
      sb.cleanup();
    }
  });

  it('says what store.durability: normal gives up', () => {
    const sb = sandbox(BASE_CONFIG.replace('path: ./callgate.db', 'path: ./callgate.db\n  durability: normal'));
    try {
      const r = sb.run(['config', 'check']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /store: sqlite \.\/callgate\.db, durability normal \(survives a crash of callgate; a power cut may lose the last commits\)\n/,
      );
    } finally {
      sb.cleanup();
    }
  });

  it('refuses a file that still sets the removed store.walBuffer, saying why', () => {
    const sb = sandbox(BASE_CONFIG.replace('path: ./callgate.db', 'path: ./callgate.db\n  walBuffer: true'));
    try {
      const r = sb.run(['config', 'check']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/store\.walBuffer: removed: the native WAL write buffer .*delete this line/);
    } finally {
      sb.cleanup();
    }
  });

  it('lists every problem of a bad file and exits 2', () => {
    const sb = sandbox(BROKEN);
    try {
      const r = sb.run(['config', 'check']);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/campaigns\[0\]\.professional/);
      expect(r.stderr).toMatch(/campaigns\[0\]\.dialing/);
      expect(r.stderr).toMatch(/maxAttemps/);
      // check refuses the same file the same way, and writes nothing
      const c = sb.run(['check', '--to', CALLEE, '--caller-id', CALLER]);
      expect(c.code).toBe(2);
      expect(c.stderr).toMatch(/campaigns\[0\]\.dialing/);
      expect(existsSync(sb.db)).toBe(false);
    } finally {
      sb.cleanup();
    }
  });

  it('reports an unreadable config naming the file', () => {
    const sb = sandbox(BASE_CONFIG);
    try {
      const r = sb.run(['config', 'check', '--config', 'nowhere.yaml']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/nowhere\.yaml/);
      expect(r.stderr).toMatch(/not found/);
    } finally {
      sb.cleanup();
    }
  });

  it('uses CALLGATE_CONFIG when --config is absent, and --config over it', () => {
    const sb = sandbox();
    try {
      const alt = sb.write('alt.yaml', BROKEN);
      expect(sb.run(['config', 'check'], { CALLGATE_CONFIG: alt }).code).toBe(2);
      expect(sb.run(['config', 'check', '--config', sb.config], { CALLGATE_CONFIG: alt }).code).toBe(0);
    } finally {
      sb.cleanup();
    }
  });
});

describe('help and version', () => {
  it('exit 0 when asked for, 2 when shown because a sub-command is missing', () => {
    const sb = sandbox();
    try {
      const help = sb.run(['help', 'check']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/--caller-id/);
      expect(sb.run(['check', '--help']).code).toBe(0);
      const v = sb.run(['--version']);
      expect(v.code).toBe(0);
      expect(v.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      const missing = sb.run(['consent']);
      expect(missing.code).toBe(2);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toMatch(/withdraw/);
    } finally {
      sb.cleanup();
    }
  });
});
