/** Number masking in logs (RGPD art. 5.1.c data minimisation). */
import { maskNumber, maskUrlCredentials } from '../../src/gate/mask';

describe('maskNumber', () => {
  it.each([
    ['+33612345678', '+336******78'],
    ['+33162000001', '+331******01'],
    ['+596696123456', '+5966******56'],
    ['+262692123456', '+2626******56'],
    ['+14155552671', '+14*******71'],
    ['0612345678', '06******78'],
    ['06 12 34 56 78', '06 ** ** ** 78'],
  ])('%s → %s', (raw, masked) => {
    expect(maskNumber(raw)).toBe(masked);
  });

  it('hides all but a few digits of any personal number', () => {
    const m = maskNumber('+33612345678');
    expect(m).not.toContain('1234');
    expect(m.replace(/\D/g, '')).toHaveLength(5); // 33 + 6 + 78
  });

  it('leaves short service numbers and digit-less values alone', () => {
    expect(maskNumber('112')).toBe('112');
    expect(maskNumber('3179')).toBe('3179');
    expect(maskNumber('anonymous')).toBe('anonymous');
    expect(maskNumber('')).toBe('');
  });
});

describe('maskUrlCredentials', () => {
  it.each([
    ['http://callgate:s3cr%40t@127.0.0.1:8088', 'http://callgate:***@127.0.0.1:8088'],
    ['http://:only-a-password@pbx.example:8088/ari', 'http://:***@pbx.example:8088/ari'],
    [
      'from http://u:p@h:1: 401 and ws://u:p@h:1/ari/events',
      'from http://u:***@h:1: 401 and ws://u:***@h:1/ari/events',
    ],
    ['postgres://cg:p@ss@db:5432/callgate', 'postgres://cg:***@db:5432/callgate'],
    ['postgres://db/cg?password=s3cret&application_name=x', 'postgres://db/cg?password=***&application_name=x'],
  ])('hides the password of %s', (raw, masked) => {
    expect(maskUrlCredentials(raw)).toBe(masked);
  });

  it.each(['http://127.0.0.1:8088', 'http://callgate@127.0.0.1:8088', 'no url: here@there'])(
    'leaves %s as it is',
    (t) => {
      expect(maskUrlCredentials(t)).toBe(t);
    },
  );
});
