// Rules files: the JSON list and the CSV that PowerShell's Export-Csv writes
// for Lync normalisation rules (src/provisioning/dialplan/rules-file.ts).
import { describe, expect, it } from 'vitest';
import { parseRulesText as parseRulesFile } from '../../../../src/provisioning/dialplan/rules-file.ts';

const LISBON = { name: 'Lisbon 5 digit 2', description: 'Lisbon 8047x & 8063x', pattern: '^((8047[0-9])|(8063[0-9]))$', translation: '+3512131$1', isInternalExtension: true };

describe('rules file', () => {
  it('reads a JSON list, in either key case, a single ConvertTo-Json object too', () => {
    expect(parseRulesFile(JSON.stringify([LISBON, { pattern: '^(\\d{4})$', translation: '+1555$1', isInternalExtension: false }]))).toEqual([
      LISBON,
      { pattern: '^(\\d{4})$', translation: '+1555$1', isInternalExtension: false },
    ]);
    expect(parseRulesFile('{"Name":"x","Pattern":"^1$","Translation":"2","IsInternalExtension":false}')).toEqual([
      { name: 'x', pattern: '^1$', translation: '2', isInternalExtension: false },
    ]);
  });

  it('reads Export-Csv output: #TYPE line, quoted cells, extra columns, True/False, Priority order', () => {
    const csv = [
      '#TYPE Microsoft.Rtc.Management.WritableConfig.Policy.Voice.NormalizationRule',
      '"Identity","Priority","Description","Pattern","Translation","Name","IsInternalExtension"',
      '"Global/Four","1","","^(\\d{4})$","+1555$1","Four digit","False"',
      '"Global/Lisbon","0","Lisbon 8047x & 8063x","^((8047[0-9])|(8063[0-9]))$","+3512131$1","Lisbon 5 digit 2","True"',
      '',
    ].join('\r\n');
    expect(parseRulesFile(csv)).toEqual([LISBON, { name: 'Four digit', pattern: '^(\\d{4})$', translation: '+1555$1', isInternalExtension: false }]);
  });

  it('keeps file order without a priority on every rule', () => {
    const csv = 'Name,Pattern,Translation,IsInternalExtension,Priority\na,^1$,1,False,5\nb,^2$,2,True,\n';
    expect(parseRulesFile(csv).map((r) => r.name)).toEqual(['a', 'b']);
  });

  it('names the first bad rule', () => {
    expect(() => parseRulesFile('[{"pattern":"^1$","translation":"1"}]')).toThrow('rule 1: IsInternalExtension must be True or False');
    expect(() => parseRulesFile('Name,Translation,IsInternalExtension\na,1,True\n')).toThrow('rule 1 has no Pattern');
    expect(() => parseRulesFile('[{"pattern":5,"isInternalExtension":true}]')).toThrow('Pattern must be text');
    expect(() => parseRulesFile('[1,2]')).toThrow('list of rule objects');
    expect(() => parseRulesFile('[{')).toThrow('not JSON');
  });
});
