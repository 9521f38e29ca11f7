import { formatTable } from './table.ts';

describe('formatTable', () => {
  it('aligns columns to the widest cell', () => {
    expect(
      formatTable(
        ['A', 'LONG HEADER'],
        [
          ['value', 'x'],
          ['v', 'yy'],
        ],
      ),
    ).toBe(['A      LONG HEADER', '-----  -----------', 'value  x', 'v      yy'].join('\n'));
  });
});
