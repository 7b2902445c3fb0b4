import { App, Stack, Names } from 'aws-cdk-lib';
import { Construct } from 'constructs';
const app = new App(); const s = new Stack(app, 'Kubelease'); const c = new Construct(s, 'Broker'); const s2 = new Stack(app, 'Host'); const c2 = new Construct(s2, 'Broker');
console.log(Names.uniqueResourceName(c, { maxLength: 128, separator: '-' }), Names.uniqueResourceName(c2, { maxLength: 128, separator: '-' }));
